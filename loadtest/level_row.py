"""One table row from a load tool result: `python level_row.py RESULTS.json CELL...` prints
`| CELL... | requests/s | p50 ms | p99 ms | errors |` for the first level of RESULTS.json."""
import json
import sys

level = json.load(open(sys.argv[1]))["levels"][0]
cells = sys.argv[2:] + ["%.1f" % level["requests_per_sec"], "%.2f" % (level["latency_us"]["p50"] / 1000),
                        "%.2f" % (level["latency_us"]["p99"] / 1000), str(sum(level["errors"].values()))]
print("| " + " | ".join(cells) + " |")
