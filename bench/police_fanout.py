"""Police matching fanned out per commune against the one-call matcher, on bench/linkage.py's data
(generated in memory: bench/linkage_data.py).

    .venv/bin/python bench/police_fanout.py [--scale small|large] [--scenario default|skewed] [--seed 7]

Runs, in one process, what police_reconciliation's tasks do: the plan (`matching.encode`, the
snapshot pickled and read back as each task reads it), each commune's candidates
(`matching.candidates_of`) and the decision over all of them (`matching.merge_candidates`,
`matching.answer`); then the one-call `matching.match_cases` on the same frames. Prints the
times, the per-commune spread (the longest commune bounds the fanned-out wall time however many
workers there are), the snapshot's size, and whether the answers are identical (they must be).
Numbers are printed, never asserted; wall times depend on what else runs on the machine.
"""

from __future__ import annotations

import argparse
import io
import pickle
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "devtools"))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    import numpy as np
    from linkage import SCALES
    from linkage_data import SCENARIOS

    from chuyencan.police import matching

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", choices=("small", "large"), default="small")
    parser.add_argument("--scenario", choices=("default", "skewed"), default="default")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data = SCENARIOS[args.scenario](*SCALES[args.scale], args.seed)
    cases, residents = data.cases, data.residents

    t0 = time.perf_counter()
    case_side = matching.in_id_order(cases, "case_id")
    enc = matching.encode(case_side, matching.in_id_order(residents, "resident_id"))
    buffer = io.BytesIO()
    pickle.dump(enc, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    plan = time.perf_counter() - t0

    communes = case_side["commune"].astype(str).to_numpy(dtype=object)
    parts, per_commune = [], []
    for commune in sorted(set(communes)):
        t = time.perf_counter()
        snapshot = pickle.loads(buffer.getvalue())  # each task reads the snapshot
        parts.append(matching.candidates_of(snapshot, np.flatnonzero(communes == commune)))
        per_commune.append(time.perf_counter() - t)
    t = time.perf_counter()
    pairs, levels = matching.merge_candidates(parts)
    fanned = matching.answer(enc, pairs, levels)
    decide = time.perf_counter() - t

    t = time.perf_counter()
    one_call = matching.match_cases(cases, residents)
    single = time.perf_counter() - t

    same = fanned.set_index("case_id").equals(one_call.set_index("case_id").loc[fanned["case_id"]])
    spread = np.array(per_commune)
    print(
        f"## {args.scenario} {args.scale}: {len(cases):,} cases × {len(residents):,} records, {len(spread)} communes"
    )
    print()
    print("| step | seconds |")
    print("| --- | --- |")
    print(f"| one call (`match_cases`) | {single:.1f} |")
    print(f"| plan: encode, u, snapshot ({buffer.tell() / 2**20:.0f} MB pickled) | {plan:.1f} |")
    print(
        f"| communes: sum / mean / longest | {spread.sum():.1f} / {spread.mean():.2f} / {spread.max():.2f} |"
    )
    print(f"| decide: merge, model, decisions | {decide:.1f} |")
    for workers in (1, 2, 4):
        print(
            f"| fanned out, {workers} worker slot(s) (plan + communes / slots + decide, at best) | "
            f"{plan + max(spread.sum() / workers, spread.max()) + decide:.1f} |"
        )
    print()
    print(f"answers identical to the one call: {same}")


if __name__ == "__main__":
    main()
