"""Ray worker setup hook (runtime_env worker_process_setup_hook, set by app.py), run in every Ray worker process
of the job (the Serve controller, the proxy and the replica among them):

- keeps Ray Serve's listeners on 127.0.0.1: Ray Serve 2.60 binds its gRPC proxy and each replica's internal gRPC
  server to "[::]" (every interface) with no option to change it; this rewrites those two addresses;
- makes tritonclient's inference.* protobuf messages picklable: Ray Serve's gRPC proxy pickles each request
  message to the replica and the replica's reply back, and pickle looks classes up by module, but tritonclient's
  generated classes name the module they were compiled as (grpc_service_pb2, model_config_pb2), which is not
  importable under that name.
"""

import sys


def setup():
    from ray.serve._private import default_impl, replica
    from tritonclient.grpc import model_config_pb2, service_pb2

    add_grpc_address = default_impl.add_grpc_address
    add_port_to_grpc_server = replica.add_port_to_grpc_server

    def loopback(address):
        return "127.0.0.1:" + address.rsplit(":", 1)[1] if address.startswith("[::]:") else address

    default_impl.add_grpc_address = lambda server, address: add_grpc_address(server, loopback(address))
    replica.add_port_to_grpc_server = lambda server, address: add_port_to_grpc_server(server, loopback(address))

    sys.modules.setdefault("grpc_service_pb2", service_pb2)
    sys.modules.setdefault("model_config_pb2", model_config_pb2)
