"""Police matching: our matcher against a plain Splink model, on generated data with ground truth.

    .venv/bin/python bench/linkage.py [--scale small|large|both] [--scenario default|skewed|both]
                                      [--seed 7] [--side ours|splink|both] [--without-ids]

small: 10,000 cases against 200,000 household records; large: 100,000 against 2,000,000
(cached as parquet under var/bench/). Two scenarios (bench/linkage_data.py):
- default, "Bát Xát communes": communes of ~13,000 people, names from chuyencan_dev.synth;
- skewed, "large communes, skewed surnames": communes of ~220,000 people (one at the small
  scale, nine at the large), a highland name stock where one surname is ~18 % of people and the
  top five ~55 %, with its own noise (names typed given-name first, clan spellings, one-letter
  typos, day/month swaps, year-only dates, missing IDs); written apart from chuyencan_dev.synth.

Each side runs in its own child process, timed from the loaded frames to the decisions; its
peak memory is the child's peak resident set size (getrusage(RUSAGE_SELF).ru_maxrss at exit:
the loaded frames, everything the matcher or DuckDB allocated). Both sides get the same frames.

Splink reference ("plain" model): names folded and split into surname / middle / given;
blocking on commune + surname + given, commune + given + birth year, commune + birth date,
commune + surname + birth year + village, and the personal ID (not commune + birth year alone,
which is quadratic in a commune's size: ~660M pairs at the large skewed scale); comparisons:
NameComparison (Jaro-Winkler) on surname and given name with term frequencies, exact middle
name with term frequencies, DateOfBirthComparison, exact birth year (year-only police dates),
sex, village with term frequencies, Jaro-Winkler on parent vs household head, exact personal
ID; λ from deterministic rules, u by random sampling, m by EM on two blocking rules
(commune + birth date; commune + surname + given name + birth year). Its best record per case
is accepted at match probability >= 0.99 and sent to review from 0.10 (the same thresholds as
ours); a second row shows the same run accepted from p >= 0.5.

Prints a markdown table per scenario, scale and system: auto-accepted matches, wrong ones,
precision, recall, F1, cases sent to review, wall time, peak RSS. Numbers are printed, never
asserted. Wall times depend on what else runs on the machine.
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
SPLINK_LOOSE = 0.5  # Splink's best record accepted from p 0.5 too (more recall, less precision)
REVIEW_FROM = 0.10
SCENARIO_TITLES = {"default": "Bát Xát communes", "skewed": "large communes, skewed surnames"}


def dataset(scenario: str, scale: str, seed: int) -> Path:
    """Generate (or reuse) the scenario's frames at that scale as parquet; returns the folder."""
    import pandas as pd
    from linkage_data import SCENARIOS

    generate = SCENARIOS[scenario]
    folder = CACHE / (
        f"linkage_{scale}_{seed}" if scenario == "default" else f"linkage_{scenario}_{scale}_{seed}"
    )
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
        f"[{scenario} {scale}] generated {n_cases:,} cases / {len(data.residents):,} records in {time.perf_counter() - start:.0f} s"
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
        # Not commune + birth year alone: in a commune of 220,000 people that is ~6,000
        # records per case (660M pairs at 100k cases), more memory than the machine has.
        blocking_rules_to_generate_predictions=[
            block_on("commune", "surname", "given"),
            block_on("commune", "given", "birth_year"),
            block_on("commune", "birth_date"),
            block_on("commune", "surname", "birth_year", "village"),
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
    out["p"] = out["case_id"].map(best["p"]).fillna(0.0)
    out["best"] = out["case_id"].map(best["resident_id"])
    return splink_decisions(out, AUTO_ACCEPT)


def splink_decisions(out, accept: float):
    """Splink's best record per case accepted at p >= accept, sent to review from REVIEW_FROM."""
    out = out.copy()
    out["decision"] = "no_match"
    out.loc[out["p"] >= REVIEW_FROM, "decision"] = "ambiguous"
    out.loc[out["p"] >= accept, "decision"] = "match"
    out["resident_id"] = out["best"].where(out["decision"] == "match", None)
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


def evaluate(folder: Path, predictions: Path, *, splink_accept: float | None = None) -> dict[str, float]:
    import pandas as pd

    truth = pd.read_parquet(folder / "truth.parquet").set_index("case_id")["resident_id"]
    out = pd.read_parquet(predictions)
    if splink_accept is not None:
        out = splink_decisions(out, splink_accept)
    out = out.set_index("case_id")
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
        "to_review": int((out["decision"] == "ambiguous").sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["small", "large", "both"], default="both")
    parser.add_argument("--scenario", choices=[*SCENARIO_TITLES, "both"], default="both")
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
    scenarios = list(SCENARIO_TITLES) if args.scenario == "both" else [args.scenario]
    sides = ["ours", "splink"] if args.side == "both" else [args.side]
    rows = []
    with tempfile.TemporaryDirectory(prefix="linkage-bench-") as tmp:
        for scale in scales:
            for scenario in scenarios:
                folder = dataset(scenario, scale, args.seed)
                for side in sides:
                    result = Path(tmp) / f"{scenario}-{scale}-{side}.json"
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
                    quality = evaluate(folder, result.with_suffix(".parquet"))
                    rows.append((scenario, scale, side, quality, measured))
                    if side == "splink":
                        loose = evaluate(folder, result.with_suffix(".parquet"), splink_accept=SPLINK_LOOSE)
                        rows.append((scenario, scale, "splink-loose", loose, None))
                    print(
                        f"[{scenario} {scale}] {side}: F1 {quality['f1']:.4f}, {measured['seconds']:.1f} s, "
                        f"{measured['peak_gb']:.2f} GB",
                        flush=True,
                    )
    print_table(rows)


def _size(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n // 1000}k"


def print_table(rows: list) -> None:
    """One markdown table: scenario, scale, system, quality, review queue, time, peak memory."""
    print()
    print(
        "| scenario | scale | system | auto | wrong | precision | recall | F1 | to review | time | peak memory |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    systems = {
        "ours": "ours (auto-accepted)",
        "splink": f"Splink, accept p ≥ {AUTO_ACCEPT}",
        "splink-loose": f"Splink, accept p ≥ {SPLINK_LOOSE}",
    }
    for scenario, scale, side, q, m in rows:
        n_cases, n_residents = SCALES[scale]
        cost = f"{m['seconds']:.1f} s | {m['peak_gb']:.2f} GB" if m else "same run | "
        print(
            f"| {SCENARIO_TITLES[scenario]} | {n_cases // 1000}k × {_size(n_residents)} | {systems[side]} "
            f"| {q['auto']:,} | {q['wrong']:,} | {q['precision']:.4f} | {q['recall']:.4f} | {q['f1']:.4f} "
            f"| {q['to_review']:,} ({q['review']:.2%}) | {cost} |"
        )


if __name__ == "__main__":
    main()
