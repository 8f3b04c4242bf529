"""Reliquat's speed and memory targets, measured on generated ledgers.

    python benchmarks/run.py --sizes 100000,1000000 --json out.json

Each measurement runs in a fresh process and counts its own imports, as a command does; peak
memory per stage is the process's peak resident set since the stage began (Linux resets it
through /proc/self/clear_refs). Two references run on the same data: the naive pipeline an
analyst would write (pandas.read_sql of the whole tables, the rules in pandas,
DataFrame.to_excel) and the floor (the selection query alone, its rows written by the faster
of XlsxWriter's constant-memory mode and Reliquat's own streaming writer).
"""

from __future__ import annotations

import argparse
import compileall
import json
import multiprocessing
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import measures  # noqa: E402

TARGETS = {  # case -> (stage, seconds, MB or None)
    "sqlite-1000000": ("extract", 3.0, 400),
    "sqlite-10000000": ("extract", 20.0, None),
    "csv-1000000": ("extract", 6.0, None),
    "dirty-100000": ("extract", 10.0, None),
}
DIRTY_COMMIT_TARGET = 10.0
SPEEDUP_TARGETS = {"sqlite-1000000": 8.0, "csv-1000000": 4.0}  # × the naive pipeline
WRITER_RATIO = 3.0  # dirty ledger: extract and commit × writing the review alone
SERVER_RATIO = 2.0  # a server's ledger: extract × the server running the selection alone
GROWTH = (1_000_000, 10_000_000, 12.0)  # the larger ledger's extract within 12× the smaller


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000",
                        help="SQLite ledger sizes in open items (comma separated)")
    parser.add_argument("--csv-size", type=int, default=1_000_000,
                        help="size of the CSV export case (0 to skip)")
    parser.add_argument("--xlsx-size", type=int, default=0,
                        help="size of the xlsx export case (0 to skip; writing it takes "
                             "minutes)")
    parser.add_argument("--dirty", type=int, default=100_000,
                        help="flagged subscriptions of the dirty ledger (0 to skip)")
    parser.add_argument("--servers", default="postgresql,mariadb",
                        help="servers to load the 1 M ledger into and extract from "
                             "(comma separated; empty to skip)")
    parser.add_argument("--server-size", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--no-references", action="store_true",
                        help="skip the naive pipeline and the floor")
    parser.add_argument("--references-up-to", type=int, default=1_000_000,
                        help="largest ledger the references run on (the naive pipeline "
                             "holds the whole ledger in pandas: over 10 GB at 10 M items)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    _compiled()

    results = []
    for size in [int(s) for s in args.sizes.split(",") if s]:
        results.append(run_case(f"sqlite-{size}", "sqlite", size, args,
                                references=size <= args.references_up_to))
    if args.csv_size:
        results.append(run_case(f"csv-{args.csv_size}", "csv", args.csv_size, args,
                                references=args.csv_size <= args.references_up_to))
    if args.xlsx_size:  # no reference: pandas.read_excel takes minutes
        results.append(run_case(f"xlsx-{args.xlsx_size}", "xlsx", args.xlsx_size, args,
                                references=False))
    if args.dirty:
        results.append(run_case(f"dirty-{args.dirty}", "dirty", args.dirty, args,
                                references=False, commit=True))
    for server in [s for s in args.servers.split(",") if s]:
        results.append(run_server_case(server, args.server_size, args))
    growth_note(results)
    report = {"machine": machine(), "results": results}
    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"\nFigures written to {args.json}")
    return 0


def _compiled() -> None:
    """The package's bytecode written beforehand, as an installed package's is (pip compiles
    a wheel's modules; pandas and the others the naive pipeline imports come so): with
    PYTHONDONTWRITEBYTECODE set, each measured process would otherwise compile every module
    of Reliquat again (about 50 ms of an extract)."""
    for folder in ("addin", "udfs"):
        compileall.compile_dir(ROOT / folder, quiet=1)


def run_case(name: str, kind: str, size: int, args: argparse.Namespace, *,
             references: bool, commit: bool = False) -> dict:
    source = measures.prepare_source(kind, size, args.work)
    run = args.work / "runs" / name  # emptied by each run: never the source's own folder
    result: dict = {"case": name, "source": str(source)}
    in_process(measures.prepare_run, run)
    result["extract"] = in_process(measures.measure_extract, str(source), run)
    if commit:
        result["commit"] = in_process(measures.measure_commit, run)
        result["writer"] = in_process(measures.measure_writer, str(source), run / "writer")
    if references and not args.no_references:
        naive = measures.measure_naive_csv if kind == "csv" else measures.measure_naive
        result["naive"] = in_process(naive, str(source), run)
        ours = result["extract"]["wall"]
        result["speedup_vs_naive"] = round(result["naive"]["wall"] / ours, 2)
        if kind != "csv":  # the floor is the selection query run by SQLite
            result["floor"] = in_process(measures.measure_floor, str(source), run)
            result["ratio_to_floor"] = round(ours / result["floor"]["wall"], 2)
    result["targets"] = check_targets(name, result)
    return result


def run_server_case(server: str, size: int, args: argparse.Namespace) -> dict:
    """The ledger loaded into a server: our extract against the server's selection alone."""
    name = f"{server}-{size}"
    try:
        url = in_process(measures.prepare_server, server, size, args.work)
    except Exception as exc:  # a server down is reported, not fatal
        return {"case": name, "targets": [f"skipped: {server} not reachable ({exc})"]}
    run = args.work / "runs" / name
    result: dict = {"case": name, "source": url}
    # The server's query first: both then find the ledger in the server's cache.
    result["server"] = in_process(measures.measure_server_query, url, run)
    in_process(measures.prepare_run, run)
    result["extract"] = in_process(measures.measure_extract, url, run)
    ratio = round(result["extract"]["wall"] / result["server"]["wall"], 2)
    result["ratio_to_server"] = ratio
    result["targets"] = [_verdict(f"extract ≤ {SERVER_RATIO:g}× the server's selection alone",
                                  ratio, SERVER_RATIO, "×")]
    return result


def growth_note(results: list[dict]) -> None:
    """The larger SQLite ledger against the smaller: time within the ratio, and no more
    memory per flagged row."""
    small, large, limit = GROWTH
    found = {r["case"]: r for r in results}
    a, b = found.get(f"sqlite-{small}"), found.get(f"sqlite-{large}")
    if not (a and b):
        return
    times = round(b["extract"]["wall"] / a["extract"]["wall"], 2)
    b["targets"].append(_verdict(f"extract ≤ {limit:g}× the {small:,} ledger's", times, limit,
                                 "×"))
    per_row = [r["extract"]["peak_mb"] / max(1, r["extract"]["rows"]) for r in (a, b)]
    b["targets"].append(_verdict(f"peak MB per flagged row ≤ the {small:,} ledger's",
                                 round(per_row[1], 5), round(per_row[0], 5), " MB"))


def in_process(function, *args) -> dict:  # type: ignore[no-untyped-def]
    """Run a measurement in a fresh process so imports, caches and peaks do not leak."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def check_targets(name: str, result: dict) -> list[str]:
    notes = []
    if name in TARGETS:
        stage, seconds, megabytes = TARGETS[name]
        wall = result[stage]["wall"]
        notes.append(_verdict(f"{stage} ≤ {seconds:g} s", wall, seconds, "s"))
        if megabytes:
            notes.append(_verdict(f"peak ≤ {megabytes} MB", result[stage]["peak_mb"],
                                  megabytes, "MB"))
    if name in SPEEDUP_TARGETS and "naive" in result:  # issue 13, measured in the same run
        speedup = SPEEDUP_TARGETS[name]
        notes.append(_verdict(f"≥ {speedup:g}× faster than naive", speedup,
                              result["speedup_vs_naive"], "×", higher_is_better=True))
        notes.append(_verdict("peak ≤ 400 MB", result["extract"]["peak_mb"], 400, "MB"))
    if name.startswith("sqlite-1000000") and "floor" in result:
        notes.append(_verdict("≤ 1.5× the floor", result["ratio_to_floor"], 1.5, "×"))
    if "commit" in result:
        notes.append(_verdict(f"commit ≤ {DIRTY_COMMIT_TARGET:g} s", result["commit"]["wall"],
                              DIRTY_COMMIT_TARGET, "s"))
    if "writer" in result:
        writer = result["writer"]["wall"]
        for run in ("extract", "commit"):
            ratio = round(result[run]["wall"] / writer, 2)
            result[f"{run}_to_writer"] = ratio
            notes.append(_verdict(f"{run} ≤ {WRITER_RATIO:g}× writing the review alone",
                                  ratio, WRITER_RATIO, "×"))
    return notes


def _verdict(what: str, value: float, limit: float, unit: str,
             higher_is_better: bool = False) -> str:
    if higher_is_better:
        value, limit = limit, value
        ok = value >= limit
        return f"{what}: {'met' if ok else 'MISSED'} ({value:g}{unit})"
    ok = value <= limit
    miss = "" if ok else f", over by {value - limit:.2f}{unit} ({value / limit:.1f}×)"
    return f"{what}: {'met' if ok else 'MISSED'} ({value:g}{unit}{miss})"


def machine() -> dict:
    import os

    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
            "date": time.strftime("%Y-%m-%d")}


def print_table(report: dict) -> None:
    m = report["machine"]
    print(f"\nReliquat benchmark — {m['date']}, Python {m['python']}, {m['cpus']} CPUs, "
          f"{m['platform']}\n")
    header = f"{'case':<18}{'run':<9}{'wall s':>8}{'peak MB':>9}  stages (s)"
    print(header)
    print("-" * len(header) + "-" * 40)
    for r in report["results"]:
        for run in ("extract", "commit", "naive", "floor", "writer", "server"):
            if run not in r:
                continue
            f = r[run]
            stages = ", ".join(f"{k} {v['s']:.2f}/{v['mb']:.0f}MB" for k, v in f["stages"].items())
            rows = f" rows {f['rows']}" if "rows" in f else ""
            rows += f", fastest writer: {f['writer']}" if "writer" in f else ""
            print(f"{r['case']:<18}{run:<9}{f['wall']:>8.2f}{f['peak_mb']:>9.0f}  {stages}{rows}")
        for note in r["targets"]:
            print(f"{'':<18}target   {note}")
        if "speedup_vs_naive" in r:
            floor = f", {r['ratio_to_floor']}× the floor" if "ratio_to_floor" in r else ""
            print(f"{'':<18}ratios   {r['speedup_vs_naive']}× faster than naive{floor}")


if __name__ == "__main__":
    sys.exit(main())
