"""Multi-machine training on TensorFlow's distributed runtime.

Between-graph replication: every worker builds the training graph with its
variables placed on the parameter servers by `tf.train.replica_device_setter`
and applies its own updates to them (asynchronous data parallelism). Worker 0
is the chief: it initializes or restores the variables, writes checkpoints and
summaries; the other workers wait for it and then train on the shared
variables. A parameter server only serves (`server.join()`).

The cluster comes from `--ps_hosts --worker_hosts --job_name --task_index`,
or from the `TF_CONFIG` environment variable
(`{"cluster": {"ps": [...], "worker": [...]}, "task": {"type": "worker", "index": 0}}`).
"""
import collections
import json
import os
import time

from .errors import UserError
from .tf_compat import tf

Cluster = collections.namedtuple("Cluster", "spec job_name task_index")


def from_args(args):
    """The `Cluster` of this process, or None for single-machine training."""
    if args.worker_hosts or args.ps_hosts:
        hosts = {"ps": _hosts(args.ps_hosts, "--ps_hosts"),
                 "worker": _hosts(args.worker_hosts, "--worker_hosts")}
        job, index = args.job_name, args.task_index
    elif os.environ.get("TF_CONFIG"):
        try:
            config = json.loads(os.environ["TF_CONFIG"])
            hosts = {k: list(config["cluster"][k]) for k in ("ps", "worker")}
            job, index = config["task"]["type"], int(config["task"]["index"])
        except (ValueError, KeyError, TypeError) as e:
            raise UserError("TF_CONFIG: expected cluster.ps, cluster.worker, task.type and "
                            "task.index (%s)" % e)
    else:
        return None
    if job not in hosts:
        raise UserError("--job_name must be 'ps' or 'worker' in a cluster, got %r" % job)
    if not 0 <= index < len(hosts[job]):
        raise UserError("--task_index %d: the %s job has %d task(s)" % (index, job, len(hosts[job])))
    return Cluster(tf.train.ClusterSpec(hosts), job, index)


def _hosts(value, flag):
    hosts = [h for h in (value or "").split(",") if h]
    if not hosts:
        raise UserError("%s: give a comma-separated list of host:port" % flag)
    return hosts


def start_server(cluster, config=None):
    return tf.train.Server(cluster.spec, job_name=cluster.job_name,
                           task_index=cluster.task_index, config=config)


def device_setter(cluster):
    """A device scope: variables on the parameter servers, other ops on this worker."""
    return tf.device(tf.train.replica_device_setter(
        worker_device="/job:worker/task:%d" % cluster.task_index, cluster=cluster.spec))


def wait_for_chief(sess, pending, timeout=600.0):
    """Block a non-chief worker until the chief has initialized every variable
    (`pending`: the graph's `tf.report_uninitialized_variables()`)."""
    deadline = time.time() + timeout
    while len(sess.run(pending)):
        if time.time() > deadline:
            raise UserError("the chief (worker 0) did not initialize the variables within "
                            "%.0f s" % timeout)
        time.sleep(1.0)
