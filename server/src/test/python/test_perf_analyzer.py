"""perf_analyzer (2.40.0, from the tritonclient wheel) against Serval.

perf_analyzer reads the model metadata and config, sends inferences at
concurrency 1..4, and reads the server-side statistics before and after each
measurement window; it fails if any of that is not Triton-compatible.

Output format of perf_analyzer 2.40 (checked against the binary's strings and a
real run against a Triton-compatible server):

    Request concurrency: 1
      Client:
        Request count: ...
        Throughput: ... infer/sec
        Avg latency: ... usec (standard deviation ... usec)
        ...
      Server:
        Inference count: ...
        Execution count: ...
        Successful request count: ...
        Avg request latency: N usec (overhead N usec + queue N usec
            + compute input N usec + compute infer N usec + compute output N usec)

    Inferences/Second vs. Client Average Batch Latency
    Concurrency: 1, throughput: ... infer/sec, latency ... usec

and the -f CSV has a header row ("Concurrency,Inferences/Second,Client Send,
Network+Server Send/Recv,Server Queue,Server Compute Input,Server Compute Infer,
Server Compute Output,Client Recv,...") and one row per concurrency level.
"""

import csv
import re
import subprocess

import pytest

from conftest import MODEL

CONCURRENCIES = [1, 2, 3, 4]
TIMEOUT_S = 300


def run_perf_analyzer(settings, protocol, csv_path):
    url = settings.grpc_url if protocol == "grpc" else settings.http_url
    cmd = [
        settings.perf_analyzer,
        "-m", MODEL,
        "-u", url,
        "-i", protocol,
        "--concurrency-range", "%d:%d" % (CONCURRENCIES[0], CONCURRENCIES[-1]),
        "-b", "1",
        "--measurement-mode", "count_windows",
        "--measurement-request-count", "100",
        # Two shared cores run the server, perf_analyzer and the JVM's own threads: latency wanders more than
        # perf_analyzer's default 10% between windows. This test proves the protocol works end to end; the
        # benchmark in loadtest/ measures, with longer windows.
        "--stability-percentage", "50",
        "--max-trials", "20",
        "-f", str(csv_path),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        pytest.fail("perf_analyzer (%s) did not finish within %d s\ncommand: %s\nstdout:\n%s\n"
                    "stderr:\n%s" % (protocol, TIMEOUT_S, " ".join(cmd),
                                      _text(e.stdout), _text(e.stderr)))
    return cmd, proc


def _text(data):
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def concurrency_blocks(stdout):
    """{concurrency: text of its 'Request concurrency: N' section}."""
    blocks = {}
    parts = re.split(r"^Request concurrency: (\d+)\s*$", stdout, flags=re.MULTILINE)
    # parts = [preamble, "1", block1, "2", block2, ...]
    for number, block in zip(parts[1::2], parts[2::2]):
        # the last block runs into the summary table; cut it there
        block = block.split("Inferences/Second vs.", 1)[0]
        blocks[int(number)] = block
    return blocks


SERVER_BREAKDOWN = re.compile(
    r"Server:.*?Avg request latency: \d+ usec \(overhead \d+ usec"
    r" \+ queue \d+ usec \+ compute input \d+ usec \+ compute infer \d+ usec"
    r" \+ compute output \d+ usec\)",
    re.DOTALL | re.IGNORECASE,
)


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_perf_analyzer_runs_concurrency_1_to_4(settings, protocol, tmp_path, capsys):
    csv_path = tmp_path / ("perf_%s.csv" % protocol)
    cmd, proc = run_perf_analyzer(settings, protocol, csv_path)

    with capsys.disabled():  # show the numbers in the CI log even when the test passes
        print("\n===== perf_analyzer over %s: %s (exit %d) =====" % (protocol, " ".join(cmd),
                                                                   proc.returncode))
        print(proc.stdout)
        if proc.stderr.strip():
            print("----- stderr -----")
            print(proc.stderr)

    assert proc.returncode == 0, "perf_analyzer exited %d\nstdout:\n%s\nstderr:\n%s" % (
        proc.returncode, proc.stdout, proc.stderr)

    out = proc.stdout
    blocks = concurrency_blocks(out)
    assert sorted(blocks) == CONCURRENCIES, \
        "expected 'Request concurrency: N' sections for %s, got %s" % (CONCURRENCIES,
                                                                       sorted(blocks))
    for c in CONCURRENCIES:
        block = blocks[c]
        assert re.search(r"^\s*Client:", block, re.MULTILINE), "no Client: section at %d" % c
        assert re.search(r"Throughput: [0-9.]+ infer/sec", block), "no throughput at %d" % c
        assert SERVER_BREAKDOWN.search(block), \
            "no server-side breakdown (Server: ... queue ... compute infer ...) at " \
            "concurrency %d:\n%s" % (c, block)
        assert re.search(r"Successful request count: [1-9]\d*", block), \
            "server reported no successful requests at concurrency %d" % c
        assert re.search(r"^Concurrency: %d, throughput: [0-9.]+ infer/sec" % c, out,
                         re.MULTILINE), "no summary line 'Concurrency: %d, ...'" % c

    check_csv(csv_path)


def check_csv(csv_path):
    assert csv_path.is_file(), "perf_analyzer wrote no CSV file at %s" % csv_path
    with open(csv_path, newline="") as f:
        rows = [row for row in csv.reader(f) if row and any(cell.strip() for cell in row)]
    assert rows, "CSV %s is empty" % csv_path
    header, data = rows[0], rows[1:]
    assert header[0] == "Concurrency", header
    for column in ("Inferences/Second", "Server Queue", "Server Compute Infer"):
        assert column in header, "CSV header lacks %r: %r" % (column, header)
    assert len(data) == len(CONCURRENCIES), "expected %d CSV data rows, got %d: %r" % (
        len(CONCURRENCIES), len(data), data)
    assert sorted(int(row[0]) for row in data) == CONCURRENCIES, data
    throughput = header.index("Inferences/Second")
    assert all(float(row[throughput]) > 0 for row in data), data
