"""In-graph data parallelism: towers on several devices with shared variables.

The batch is split across the towers, each builds the same networks (shared
variables through `tf.AUTO_REUSE`), batch-norm statistics stay per tower
(sequence-wise normalization within each tower's mini-batch), gradients are
averaged per variable on the variable's device and applied once. One tower is
the single-device case: the same code path.
"""

from .errors import UserError
from .tf_compat import tf


def tower_devices(num_towers, device="auto"):
    """`['/gpu:0', ...]`, or `['/cpu:0', ...]` with `device='cpu'` or no GPU."""
    if device == "cpu":
        kind = "cpu"
    else:
        has_gpu = bool(tf.config.experimental.list_physical_devices("GPU"))
        if device == "gpu" and not has_gpu:
            raise UserError("--device gpu: no GPU is visible to TensorFlow")
        kind = "gpu" if has_gpu else "cpu"
    return ["/%s:%d" % (kind, i) for i in range(num_towers)]


def split(inputs, num_towers):
    """Split each tensor of dict `inputs` on axis 0 into `num_towers` equal parts."""
    if num_towers == 1:
        return [inputs]
    parts = {k: tf.split(v, num_towers, axis=0) for k, v in inputs.items()}
    return [{k: parts[k][i] for k in inputs} for i in range(num_towers)]


def towers(fn, inputs, devices, name):
    """Run `fn(tower_inputs)` once per device on its share of `inputs`.

    Returns the list of per-tower results. Ops of tower i are under the name
    scope `<name>/tower_<i>` so their batch-norm update ops can be collected.
    """
    results = []
    for i, (device, tower_inputs) in enumerate(zip(devices, split(inputs, len(devices)))):
        with tf.device(device), tf.name_scope("%s/tower_%d" % (name, i)):
            results.append(fn(tower_inputs))
    return results


def towers_any_batch(fn, inputs, devices, name):
    """`towers` for inference calls whose batch need not divide by the number
    of towers (e.g. Algorithm 1's n new transitions): the batch is padded with
    copies of its first row up to a multiple, split, run, and the per-tower
    outputs (dict of `[batch, ...]` tensors) are concatenated with the padding
    dropped. One device: `fn(inputs)` unchanged.
    """
    k = len(devices)
    if k == 1:
        return towers(fn, inputs, devices, name)[0]
    n = tf.shape(next(iter(inputs.values())))[0]
    pad = tf.mod(-n, k)
    padded = {key: tf.concat([v, tf.tile(v[:1], tf.concat([[pad], tf.ones_like(tf.shape(v)[1:])],
                                                           0))], 0)
              for key, v in inputs.items()}
    results = towers(fn, padded, devices, name)
    return {key: tf.concat([r[key] for r in results], 0)[:n] for key in results[0]}


def part_gradients(parts, objectives):
    """Build the loss `parts` one after another, differentiating each as it comes.

    parts: callables, each building a dict of loss terms; objectives:
    `{loss_key: callable returning the variables}` (networks create their
    variables on their first call, inside some part). Part k + 1 is built
    under a control dependency on part k's gradients, so at run time only one
    part's forward activations are alive at once: the gradient of the summed
    losses, with the peak memory of the largest part. Returns (terms summed
    over the parts, `{loss_key: [(grad, var)]}`).
    """
    totals, deps, grads = {}, [], {key: {} for key in objectives}
    for part in parts:
        with tf.control_dependencies(after_all(deps)):
            terms = part()
        deps = []
        for key, var_list in objectives.items():
            if key not in terms:
                continue
            var_list = var_list()
            for var, g in zip(var_list, tf.gradients(terms[key], var_list)):
                if g is not None:
                    grads[key][var] = grads[key][var] + g if var in grads[key] else g
                    deps.append(g)
        for key, value in terms.items():
            totals[key] = totals[key] + value if key in totals else value
    return totals, {key: [(grads[key].get(var), var) for var in var_list()]
                    for key, var_list in objectives.items()}


def after_all(ops):
    """Control inputs for "after all of `ops`": one no-op that waits for them
    (`[]` if there are none). Every op built in a control-dependency block
    without an input from inside it gets each listed op as a control input:
    listed directly, the gradients and batch-norm updates made 305,049
    control edges in the pre-training graph at the CPU preset, through one
    no-op 4,057 (first step 39 -> 31 s, docs/performance.md change 11)."""
    ops = list(ops)
    return [tf.group(*ops)] if ops else []


def average(per_tower):
    """Per-variable mean over towers of their `[(grad, var)]` lists."""
    if len(per_tower) == 1:
        return per_tower[0]
    averaged = []
    for pairs in zip(*per_tower):
        var, grads = pairs[0][1], [g for g, _ in pairs if g is not None]
        with tf.device(var.device):
            averaged.append((tf.add_n(grads) / float(len(grads)) if grads else None, var))
    return averaged


def apply(optimizer, grads, after=()):
    """One optimizer step on `(grad, var)` pairs, after the ops `after` (e.g.
    batch-norm updates). The gradients are built outside that dependency so no
    control edge enters the recurrent loops."""
    with tf.control_dependencies(after_all(after)):
        return optimizer.apply_gradients(grads)


def update_ops(name):
    """The batch-norm moving-average updates built by `towers(..., name)`:
    those under its name scope `<name>/`."""
    return tf.get_collection(tf.GraphKeys.UPDATE_OPS, scope=name + "/")
