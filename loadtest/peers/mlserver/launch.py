"""Starts MLServer (`mlserver start FOLDER`) with the suite's v2 add-on installed in the same process.

MLServer answers model metadata but not the model config and model statistics that perf_analyzer asks for;
peer_common.install_v2_addon adds them (REST and gRPC) before MLServer builds its apps. Request counts and
times for the statistics are taken around MLServer's data-plane infer().
"""

import sys
import time

import peer_common

peer_common.install_v2_addon()

from mlserver.cli.main import main  # noqa: E402
from mlserver.handlers.dataplane import DataPlane  # noqa: E402

_infer = DataPlane.infer


async def _timed_infer(self, *args, **kwargs):
    start = time.perf_counter_ns()
    response = await _infer(self, *args, **kwargs)
    peer_common.STATS.record_request(time.perf_counter_ns() - start)
    return response


DataPlane.infer = _timed_infer

if __name__ == "__main__":
    sys.argv = ["mlserver", "start", sys.argv[1]]
    main()
