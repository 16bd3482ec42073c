"""Police matching: our matcher against a plain Splink model, on generated data with ground truth.

    .venv/bin/python bench/linkage.py [--scale small|large|both] [--seed 7] [--side ours|splink|both]
                                      [--without-ids]

small: 10,000 cases against 200,000 household records; large: 100,000 against 2,000,000
(bench/linkage_data.py; cached as parquet under var/bench/). Each side runs in its own
process, timed from the loaded frames to the decisions, its peak memory read from
getrusage(RUSAGE_SELF) at exit. Both sides get the same frames.

Splink reference ("plain" model): names folded and split into surname / middle / given;
blocking on commune + birth year, commune + surname + given, and the personal ID; comparisons:
NameComparison (Jaro-Winkler) on surname and given name with term frequencies, exact middle
name with term frequencies, DateOfBirthComparison, exact birth year (year-only police dates),
sex, village with term frequencies, Jaro-Winkler on parent vs household head, exact personal
ID; λ from deterministic rules, u by random sampling, m by EM on two blocking rules
(commune + birth date; commune + surname + given name + birth year). Its best record per case
is accepted at match probability >= 0.99 and sent to review from 0.10 (the same thresholds as
ours).

Prints, per scale and side: auto-accepted matches, precision, recall, F1, share sent to review,
wall time, peak RSS. Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "devtools"))
sys.path.insert(0, str(ROOT / "bench"))

SCALES = {"small": (10_000, 200_000), "large": (100_000, 2_000_000)}
CACHE = ROOT / "var" / "bench"
AUTO_ACCEPT = 0.99
REVIEW_FROM = 0.10


def dataset(scale: str, seed: int) -> Path:
    """Generate (or reuse) the scale's frames as parquet; returns the folder."""
    import pandas as pd
    from linkage_data import generate

    folder = CACHE / f"linkage_{scale}_{seed}"
    if (folder / "truth.parquet").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    n_cases, n_residents = SCALES[scale]
    start = time.perf_counter()
    data = generate(n_cases, n_residents, seed)
    data.cases.to_parquet(folder / "cases.parquet")
    data.residents.to_parquet(folder / "residents.parquet")
    pd.DataFrame({"case_id": data.truth.index, "resident_id": data.truth.to_numpy()}).to_parquet(
        folder / "truth.parquet"
    )
    print(
        f"[{scale}] generated {n_cases:,} cases / {len(data.residents):,} records in {time.perf_counter() - start:.0f} s"
    )
    return folder


# --- the two sides (each in its own process) ------------------------------------------------------


def run_ours(cases, residents):
    from chuyencan.police.matching import match_cases

    out = match_cases(cases, residents)
    return out[["case_id", "decision", "resident_id"]]


def _splink_frame(frame, *, name_col: str, relative_col: str, id_col: str):
    import pandas as pd

    from chuyencan.core.reference import commune_key
    from chuyencan.police.names import tokens, village_key

    def fold_all(values):
        codes, uniques = pd.factorize(values)
        folded = [" ".join(tokens(u)) for u in uniques] + [None]
        return pd.Series([folded[c] for c in codes], index=values.index).replace("", None)

    words = fold_all(frame[name_col]).str.split(" ")
    birth = pd.to_datetime(frame["birth_date"], errors="coerce")
    year = frame.get("birth_year", birth.dt.year)
    return pd.DataFrame(
        {
            "unique_id": frame[id_col].astype(str),
            "surname": words.str[0],
            "given": words.str[-1].where(words.str.len() > 1),
            "middle": words.str[1:-1].str.join(" ").replace("", None),
            "birth_date": birth.dt.strftime("%Y-%m-%d"),
            "birth_year": pd.to_numeric(year, errors="coerce").astype("Int64"),
            "sex": frame["sex"],
            "commune": frame["commune"].map(commune_key),
            "village": frame["village"].map(lambda v: village_key(v) or None if isinstance(v, str) else None),
            "parent": fold_all(frame[relative_col]),
            "personal_id": frame["personal_id"].where(frame["personal_id"].notna(), None),
        }
    )


def run_splink(cases, residents):
    import logging

    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    left = _splink_frame(cases, name_col="full_name", relative_col="parent_name", id_col="case_id")
    right = _splink_frame(
        residents, name_col="full_name", relative_col="household_head", id_col="resident_id"
    )
    db = DuckDBAPI()
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.NameComparison("given").configure(term_frequency_adjustments=True),
            cl.ExactMatch("middle").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            # Year-only police dates have no birth_date; their year still counts.
            cl.ExactMatch("birth_year"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("village").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("parent", [0.9, 0.7]),
            cl.ExactMatch("personal_id"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("commune", "birth_year"),
            block_on("commune", "surname", "given"),
            block_on("personal_id"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(
        [
            db.register(left, dataset_display_name="cases"),
            db.register(right, dataset_display_name="residents"),
        ],
        settings,
        log_level=logging.ERROR,
    )
    linker.training.estimate_probability_two_random_records_match(
        [block_on("commune", "surname", "given", "birth_date")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    # EM where matches are a good share of the blocked pairs (Splink's advice): same birth date,
    # and same name and birth year. Blocking EM on commune + birth year alone did not converge.
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("commune", "birth_date"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("commune", "surname", "given", "birth_year")
    )
    pairs = linker.inference.predict(threshold_match_probability=0.01).as_pandas_dataframe()
    left_is_case = pairs["source_dataset_l"] == "cases"
    scored = pd.DataFrame(
        {
            "case_id": pairs["unique_id_l"].where(left_is_case, pairs["unique_id_r"]),
            "resident_id": pairs["unique_id_r"].where(left_is_case, pairs["unique_id_l"]),
            "p": pairs["match_probability"],
        }
    )
    best = scored.sort_values("p", ascending=False).drop_duplicates("case_id").set_index("case_id")
    out = pd.DataFrame({"case_id": cases["case_id"].astype(str)})
    p = out["case_id"].map(best["p"]).fillna(0.0)
    out["decision"] = "no_match"
    out.loc[p >= REVIEW_FROM, "decision"] = "ambiguous"
    out.loc[p >= AUTO_ACCEPT, "decision"] = "match"
    out["resident_id"] = out["case_id"].map(best["resident_id"]).where(out["decision"] == "match", None)
    return out


def run_side(side: str, folder: Path, result: Path, *, without_ids: bool) -> None:
    import pandas as pd

    cases = pd.read_parquet(folder / "cases.parquet")
    if without_ids:
        cases["personal_id"] = pd.Series([None] * len(cases), dtype=object)
    residents = pd.read_parquet(folder / "residents.parquet")
    start = time.perf_counter()
    out = (run_ours if side == "ours" else run_splink)(cases, residents)
    elapsed = time.perf_counter() - start
    out.to_parquet(result.with_suffix(".parquet"))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result.write_text(json.dumps({"seconds": elapsed, "peak_gb": peak_kb / 1024**2}))


# --- scoring and the table ---------------------------------------------------------------------


def evaluate(folder: Path, predictions: Path) -> dict[str, float]:
    import pandas as pd

    truth = pd.read_parquet(folder / "truth.parquet").set_index("case_id")["resident_id"]
    out = pd.read_parquet(predictions).set_index("case_id")
    true_id = truth.reindex(out.index)
    auto = out["decision"] == "match"
    correct = auto & (out["resident_id"] == true_id)
    findable = int(true_id.notna().sum())
    precision = correct.sum() / max(int(auto.sum()), 1)
    recall = correct.sum() / max(findable, 1)
    return {
        "auto": int(auto.sum()),
        "wrong": int(auto.sum() - correct.sum()),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(2 * precision * recall / max(precision + recall, 1e-12)),
        "review": float((out["decision"] == "ambiguous").mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["small", "large", "both"], default="both")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--side", choices=["ours", "splink", "both"], default="both")
    parser.add_argument(
        "--without-ids",
        action="store_true",
        help="blank the cases' personal IDs (both sides match on the rest)",
    )
    parser.add_argument("--run-side", choices=["ours", "splink"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_side:
        run_side(args.run_side, args.data, args.result, without_ids=args.without_ids)
        return

    scales = ["small", "large"] if args.scale == "both" else [args.scale]
    sides = ["ours", "splink"] if args.side == "both" else [args.side]
    rows = []
    with tempfile.TemporaryDirectory(prefix="linkage-bench-") as tmp:
        for scale in scales:
            folder = dataset(scale, args.seed)
            for side in sides:
                result = Path(tmp) / f"{scale}-{side}.json"
                cmd = [
                    sys.executable,
                    __file__,
                    "--run-side",
                    side,
                    "--data",
                    str(folder),
                    "--result",
                    str(result),
                    *(["--without-ids"] if args.without_ids else []),
                ]
                subprocess.run(cmd, check=True)
                measured = json.loads(result.read_text())
                rows.append((scale, side, evaluate(folder, result.with_suffix(".parquet")), measured))
                m, q = rows[-1][3], rows[-1][2]
                print(
                    f"[{scale}] {side}: F1 {q['f1']:.4f}, {m['seconds']:.1f} s, {m['peak_gb']:.2f} GB",
                    flush=True,
                )

    header = (
        f"{'scale':6} {'side':7} {'cases':>8} {'auto':>7} {'wrong':>6} {'precision':>10} {'recall':>7} "
        f"{'F1':>7} {'review':>7} {'time s':>7} {'peak GB':>8}"
    )
    print()
    print(header)
    print("-" * len(header))
    for scale, side, q, m in rows:
        print(
            f"{scale:6} {side:7} {SCALES[scale][0]:>8,} {q['auto']:>7,} {q['wrong']:>6} {q['precision']:>10.5f} "
            f"{q['recall']:>7.4f} {q['f1']:>7.4f} {q['review']:>7.2%} {m['seconds']:>7.1f} {m['peak_gb']:>8.2f}"
        )


if __name__ == "__main__":
    main()
