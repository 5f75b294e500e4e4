"""FLOPs of a training step, counted on the real graph (bench/benchmark.py).

TensorFlow's registered flop statistics (what `tf.profiler.profile(cmd='scope',
options=float_operation())` gives per op) for every op a step's session calls
reach, each multiplied by how often it runs: the trip count of the while
loops around it, 1 outside loops. Placeholders need a static batch
(`TrainGraph(static_batch=True)`): the profiler skips ops of unknown shape.
"""
import contextlib
import sys


def reachable_ops(fetches):
    """The ops a `Session.run(fetches)` executes: everything the fetches depend on."""
    todo = [f if hasattr(f, "type") else f.op for f in fetches]
    seen = {op.name: op for op in todo}
    while todo:
        op = todo.pop()
        for dep in [t.op for t in op.inputs] + list(op.control_inputs):
            if dep.name not in seen:
                seen[dep.name] = dep
                todo.append(dep)
    return list(seen.values())


def trip_count(op):
    """How many times `op` runs per `Session.run`: the product of the
    (static) iteration counts of the while loops around it (`tf.scan` and
    the gradient loops built from it); 1 outside loops."""
    from rl_v2v_gan.tf_compat import tf
    count, ctx = 1, getattr(op, "_control_flow_context", None)
    while ctx is not None:
        limit = getattr(ctx, "maximum_iterations", None)
        if limit is None or limit.op.type != "Const":
            raise ValueError("%s: loop without a static iteration count" % op.name)
        count *= int(tf.make_ndarray(limit.op.get_attr("value")))
        ctx = ctx.outer_context
    return count


CONV_TYPES = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter")


def profiler_flops(graph):
    """`{op name: FLOPs}` of one run of each op, from the TF profiler (static
    shapes needed), and the profiler's own total (every op once)."""
    from rl_v2v_gan.tf_compat import tf
    options = tf.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    with contextlib.redirect_stdout(sys.stderr):
        root = tf.profiler.profile(graph, cmd="scope", options=options)
    per_op, todo = {}, list(root.children)
    while todo:
        node = todo.pop()
        if node.float_ops:
            per_op[node.name] = node.float_ops
        todo.extend(node.children)
    return per_op, int(root.total_float_ops)


def count_flops(per_op, calls):
    """FLOPs of one step made of the session calls `calls` (lists of fetches):
    each op a call reaches counts `per_op[name] * trip_count(op)`. Returns the
    total, per op type, conv (Conv2D and its two gradients), the ConvLSTMs'
    conv (ops in a `conv_lstm` scope, forward and backward) and matmul FLOPs."""
    by_type, uncounted, conv_lstm = {}, set(), 0
    for fetches in calls:
        for op in reachable_ops(fetches):
            if op.name in per_op:
                flops = per_op[op.name] * trip_count(op)
                by_type[op.type] = by_type.get(op.type, 0) + flops
                if op.type in CONV_TYPES and "conv_lstm" in op.name:
                    conv_lstm += flops
            elif op.type in ("PartitionedCall", "StatefulPartitionedCall"):
                raise ValueError("%s: a graph-function call hides its ops from the profiler;"
                                 " build it as an ops.InlinedGraph" % op.name)
            elif op.type in CONV_TYPES + ("MatMul",):
                uncounted.add(op.name)        # shapes unknown: would be missed
    return {"flops": sum(by_type.values()), "flops_by_type": by_type,
            "conv_flops": sum(by_type.get(t, 0) for t in CONV_TYPES),
            "conv_lstm_flops": conv_lstm,
            "matmul_flops": by_type.get("MatMul", 0), "uncounted_ops": sorted(uncounted)}


def phase_calls(g, phase):
    """The fetch lists of one step: pre-training; or one Algorithm-1 iteration
    per domain (collect, DDPG update, discriminator update), as Trainer runs them."""
    if phase == "pretrain":
        return {"step": [[g.pretrain.op, g.advance] + list(g.pretrain.metrics.values())]}
    return {d: [list(g.collect[d].metrics.values()),
                [g.ddpg[d].op] + list(g.ddpg[d].metrics.values()),
                [g.d_update[d].op, g.advance, g.soft_update] +
                list(g.d_update[d].metrics.values())]
            for d in ("X", "Y")}


def flops_of_phase(graph, g, phase):
    """FLOPs per step; for RL the mean over the X and Y iterations."""
    per_op, static_total = profiler_flops(graph)
    counts = [count_flops(per_op, calls) for calls in phase_calls(g, phase).values()]
    out = {k: sum(c[k] for c in counts) / len(counts)
           for k in ("flops", "conv_flops", "conv_lstm_flops", "matmul_flops")}
    out["tfprof_static_flops"] = static_total
    out["uncounted_ops"] = sorted({n for c in counts for n in c["uncounted_ops"]})
    out["flops_by_type"] = {t: sum(c["flops_by_type"].get(t, 0) for c in counts) / len(counts)
                            for t in counts[0]["flops_by_type"]}
    return out
