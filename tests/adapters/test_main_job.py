"""The README's main job (adapters/c/examples/main-job.sh) as a user sees
it: the live progress line, every result part downloaded, the first rows
of the example workflow printed, and all of it well under a minute after
the build."""

import csv
import json
import os
import pathlib
import re
import subprocess
import sys
import time

from conftest import AMCCTL, EXAMPLES, clean_env

BUILD_DIR = pathlib.Path(os.environ.get("AMC_BUILD_DIR") or AMCCTL.parents[2])
SQL = EXAMPLES / "daily_campaign_summary.sql"
DEFINITION = EXAMPLES / "daily_campaign_summary.json"
# Generous for a slow, shared CI machine: the job itself takes about ten
# seconds (the sandbox's simulated run plus the polls).
TIME_BOUND_SECONDS = 50


def expected_columns():
    """The example workflow's output columns (the definition), each of them
    named in the SQL's final SELECT list."""
    columns = [column["name"] for column in json.loads(DEFINITION.read_text())["outputColumns"]]
    sql = SQL.read_text()
    final_select = sql[sql.rindex("\nSELECT"):sql.rindex("\nFROM")]
    for name in columns:
        assert re.search(rf"(\bAS|\.)\s*{name}\s*(,|$)", final_select, re.M), \
            f"{name} of {DEFINITION.name} is not an output column of {SQL.name}"
    return columns


def sandbox_plan():
    """parts= and rows= of the SQL's sandbox marker."""
    marker = re.search(r"--\s*sandbox:.*\bparts=(\d+).*\brows=(\d+)", SQL.read_text())
    assert marker, f"{SQL.name} has no '-- sandbox: ... parts=N rows=N' line"
    return int(marker.group(1)), int(marker.group(2))


def test_main_job_shows_progress_downloads_every_part_and_prints_the_first_rows(tmp_path):
    assert AMCCTL.exists(), f"{AMCCTL} is not built"
    results = tmp_path / "results"
    started = time.monotonic()
    completed = subprocess.run(["sh", str(EXAMPLES / "main-job.sh"), str(BUILD_DIR), str(results)],
                               capture_output=True, text=True, env=clean_env(), timeout=240)
    elapsed = time.monotonic() - started
    transcript = f"exit {completed.returncode}\n--- stdout\n{completed.stdout}\n--- stderr\n{completed.stderr}"
    sys.stderr.write(f"main job took {elapsed:.1f}s\n")
    assert completed.returncode == 0, transcript
    out, err = completed.stdout, completed.stderr
    parts, rows = sandbox_plan()
    columns = expected_columns()

    # Progress: the live status line while it runs (status, elapsed, next
    # poll), its end, and each part's download.
    assert re.search(r"^exec_\w+\s+(PENDING|RUNNING)\s+elapsed \d+:\d\d\s+next poll in [\d.]+s$", err, re.M), transcript
    assert re.search(r"^exec_\w+\s+SUCCEEDED\s+elapsed \d+:\d\d$", err, re.M), transcript
    for part in range(1, parts + 1):
        assert re.search(rf"^exec_\w+\s+downloading part {part}/{parts}\s+(\d+) of \1 bytes", err, re.M), transcript

    # Every part downloaded, whole, with the workflow's header.
    assert re.search(rf"^downloaded {parts} part\(s\), {rows} rows, \d+ bytes into ", out, re.M), transcript
    files = sorted(results.glob("part-*.csv"))
    assert [f.name for f in files] == [f"part-{part}.csv" for part in range(1, parts + 1)], transcript
    assert not list(results.glob("*.partial")), transcript
    total = 0
    for path in files:
        with path.open(newline="") as handle:
            table = list(csv.reader(handle))
        assert table[0] == columns, f"{path.name}: {table[0]}"
        assert all(len(row) == len(columns) for row in table[1:]), path.name
        total += len(table) - 1
        assert re.search(rf"^\s*{re.escape(str(path))}\t{len(table) - 1} rows\t{path.stat().st_size} bytes$",
                         out, re.M), transcript
    assert total == rows

    # The first rows of the first part: the header, then its data rows.
    printed = out[out.index(f"first rows of {files[0]}:"):].splitlines()[1:]
    assert printed and printed[0].split() == columns, transcript
    with files[0].open(newline="") as handle:
        first_rows = list(csv.reader(handle))[1:6]
    assert len(printed) >= 2, transcript
    for line, row in zip(printed[1:], first_rows):
        assert line.split() == row, transcript

    # Well under a minute after the build, by the script's own clock and ours.
    done = re.search(r"^main job done in (\d+)s; results in ", err, re.M)
    assert done, transcript
    assert int(done.group(1)) < TIME_BOUND_SECONDS, transcript
    assert elapsed < TIME_BOUND_SECONDS, f"took {elapsed:.1f}s\n{transcript}"
