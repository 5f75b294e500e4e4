"""Raw layers from `tf.get_variable` and `tf.nn`: the ConvLSTM cell,
sequence-wise batch normalization, convolutions, pooling, upsampling, FC.

Every video tensor is `[batch, T, H, W, C]` (NTHWC). The batch size may be
unknown at graph-build time; T, H, W and C must be static.

Variable-length clips are right-padded to a common T and described by
`lengths` (int32 `[batch]`, each in 1..T). Layers are causal in time, so the
outputs at valid steps equal those of the unpadded clip; padded steps are
ignored by the masked normalization and by the losses.
"""

import functools
import zlib

import numpy as np

from .tf_compat import tf

LEAKY_SLOPE = 0.2
# `--precision`: the dtype convolutions and matmuls compute in. Variables,
# normalization, activations and losses stay float32 either way.
PRECISIONS = {"fp32": tf.float32, "bf16": tf.bfloat16}


def in_precision(fn, precision, *tensors):
    """`fn(*tensors)` computed in `precision` ("fp32" or "bf16"): for "bf16"
    the tensors are rounded to bfloat16 and the result cast back to float32."""
    if precision == "fp32":
        return fn(*tensors)
    dtype = PRECISIONS[precision]
    return tf.cast(fn(*[tf.cast(t, dtype) for t in tensors]), tf.float32)


def static_shape(x, rank):
    """The static shape of `x`, checked to have `rank` dims known except dim 0."""
    shape = x.shape.as_list()
    if len(shape) != rank or any(d is None for d in shape[1:]):
        raise ValueError("expected a rank-%d tensor with static non-batch dims, got %s"
                         % (rank, shape))
    return shape


def time_mask(lengths, T):
    """`[batch, T]` float mask, 1 at steps < lengths; None if lengths is None."""
    if lengths is None:
        return None
    return tf.sequence_mask(lengths, T, dtype=tf.float32)


def merge_time(x):
    """`[B, T, H, W, C] => [B*T, H, W, C]`."""
    _, T, H, W, C = static_shape(x, 5)
    return tf.reshape(x, [-1, H, W, C]), T


def split_time(x, T):
    """`[B*T, H, W, C] => [B, T, H, W, C]`."""
    _, H, W, C = static_shape(x, 4)
    return tf.reshape(x, [-1, T, H, W, C])


def op_seed(name):
    """The op seed of a random op named `name` (its full name in the graph):
    with the graph seed (`tf.set_random_seed`) it fixes the op's random
    stream, which then depends on the name alone, not on how many ops the
    graph built before it (TensorFlow's default), so a refactor of the graph
    leaves initial weights and augmentations unchanged."""
    return zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF


def weight(name, shape, regularizer=None):
    """A Xavier-initialized weight, L2-regularized when `regularizer` is set;
    its initial values are fixed by the seed and the variable's name (`op_seed`)."""
    seed = op_seed("%s/%s" % (tf.get_variable_scope().name, name))
    return tf.get_variable(name, shape, tf.float32, tf.glorot_uniform_initializer(seed=seed),
                           regularizer=regularizer)


# (choice, `--d_norm spectral`) Power-iteration steps of `spectral_normalized`:
# from a fixed start, 4 steps reach 90-95% of the largest singular value of a
# Xavier-initialized kernel of this project's shapes.
SN_ITERATIONS = 4


def spectral_normalized(w, iterations=SN_ITERATIONS):
    """`w / σ(w)` (spectral normalization, Miyato et al. 2018): σ the largest
    singular value of `w` as a `[-1, outputs]` matrix, estimated by power
    iteration from a fixed start vector (stateless: no variables, the same
    estimate in every call of a step). The gradient flows through σ, not the
    singular vectors. Any kernel shape => the same shape."""
    matrix = tf.reshape(w, [-1, w.shape.as_list()[-1]])                 # [k*k*C, F]
    start = np.random.RandomState(0).randn(matrix.shape.as_list()[-1], 1)
    v = tf.constant(start / np.linalg.norm(start), tf.float32)           # [F, 1]
    frozen = tf.stop_gradient(matrix)
    for _ in range(iterations):
        u = tf.nn.l2_normalize(tf.matmul(frozen, v), 0)                  # [k*k*C, 1]
        v = tf.nn.l2_normalize(tf.matmul(frozen, u, transpose_a=True), 0)
    sigma = tf.reduce_sum(u * tf.matmul(matrix, v))
    return w / sigma


def diff_augment(clip, shift=0.125, cutout=0.5):
    """Differentiable augmentation of a discriminator's input (choice, not in
    the paper; `--d_augment`; Zhao et al. 2020, "Differentiable augmentation
    for data-efficient GAN training"): each clip moved by up to `shift` of
    its height and width (zero fill) and a `cutout` x `cutout` square of it
    zeroed, the same for every frame of the clip, at random per clip.
    `[B, T, H, W, C] => [B, T, H, W, C]`; gradients flow to the input."""
    _, _, H, W, _ = static_shape(clip, 5)
    B = tf.shape(clip)[0]
    with tf.name_scope("augment") as scope:       # unique per call: its seeds too
        moved = clip
        for axis, size in ((2, H), (3, W)):
            pad = int(round(size * shift))
            padding = [[0, 0]] * 5
            padding[axis] = [pad, pad]
            offset = tf.random.uniform([B, 1], 0, 2 * pad + 1, tf.int32,
                                       seed=op_seed(scope + "shift_%d" % axis))    # [B, 1]
            moved = tf.gather(tf.pad(moved, padding), offset + tf.range(size)[None], axis=axis,
                              batch_dims=1)
        keep = []
        for axis, size in ((2, H), (3, W)):
            side = int(round(size * cutout))
            start = tf.random.uniform([B, 1], -(side // 2), size - side // 2, tf.int32,
                                      seed=op_seed(scope + "cutout_%d" % axis))   # [B, 1]
            inside = tf.range(size)[None] - start                                 # [B, size]
            keep.append(tf.logical_or(inside < 0, inside >= side))
        outside = tf.logical_or(keep[0][:, :, None], keep[1][:, None, :])         # [B, H, W]
        return moved * tf.cast(outside, clip.dtype)[:, None, :, :, None]


def bias(name, size, value=0.0):
    return tf.get_variable(name, [size], tf.float32, tf.constant_initializer(value))


def conv2d(x, filters, kernel=3, regularizer=None, scope="conv", precision="fp32"):
    """'SAME' 2-D convolution with bias: `[N, H, W, C] => [N, H, W, filters]`."""
    with tf.variable_scope(scope):
        C = static_shape(x, 4)[-1]
        w = weight("kernel", [kernel, kernel, C, filters], regularizer)
        return tf.nn.bias_add(_conv(x, w, precision), bias("bias", filters))


def dense(x, units, regularizer=None, scope="fc", precision="fp32"):
    """Fully connected layer: `[N, D] => [N, units]`."""
    with tf.variable_scope(scope):
        D = static_shape(x, 2)[-1]
        w = weight("kernel", [D, units], regularizer)
        return in_precision(tf.matmul, precision, x, w) + bias("bias", units)


def leaky_relu(x):
    return tf.nn.leaky_relu(x, alpha=LEAKY_SLOPE)


def conv_lstm(x, filters, kernel=3, regularizer=None, scope="conv_lstm", carry=None,
              precision="fp32"):
    """Convolutional LSTM layer: `[B, T, H, W, C] => [B, T, H, W, filters]`.

    The gates are one 'SAME' convolution over `[x_t, h_{t-1}]` (kernel
    `[k, k, C + filters, 4 * filters]`, split into i, f, o, u):
        c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(u)
        h_t = sigmoid(o) * tanh(c_t)
    with h_0 = c_0 = 0 (see `_recurrence`), or, with a `StateCarry`, the
    `(c_0, h_0)` it feeds. The forget bias starts at 1. Any T >= 1.
    `precision`: the convolutions' (forward and backward), see `in_precision`.
    """
    with tf.variable_scope(scope):
        C = static_shape(x, 5)[-1]
        w = weight("kernel", [kernel, kernel, C + filters, 4 * filters], regularizer)
        b = tf.get_variable("bias", [4 * filters], tf.float32, tf.constant_initializer(
            [0.0] * filters + [1.0] * filters + [0.0] * (2 * filters)))  # i, f, o, u
        return (_recurrence(x, w, b, precision) if carry is None
                else carry.recurrence(x, w, b, precision))


class StateCarry(object):
    """ConvLSTM states carried from one network call to the next (stateful
    inference: a long video translated window after window).

    Every ConvLSTM layer built with the carry starts from `(c_0, h_0)`
    placeholders that default to zeros (`initial`, in build order) and
    exposes its last `(c_T, h_T)` (`final`): feeding one window's final
    values as the next window's initial ones gives exactly the outputs of
    one causal pass over the two windows. Forward only.
    """

    def __init__(self):
        self.initial, self.final = [], []

    def recurrence(self, x, w, b, precision="fp32"):
        _, _, H, W, C = static_shape(x, 5)
        F = static_shape(w, 4)[-1] // 4
        zeros = tf.zeros(tf.stack([tf.shape(x)[0], H, W, F]))
        state = tuple(tf.placeholder_with_default(zeros, [None, H, W, F], name=name)
                      for name in ("c_0", "h_0"))
        cs, hs = _unroll(_input_gates(x, w[:, :, :C], b, precision), w[:, :, C:], precision,
                         state)
        self.initial.append(state)
        self.final.append((cs[-1], hs[-1]))
        return tf.stack(hs, axis=1)


def _conv(x, w, precision="fp32"):
    return in_precision(lambda x, w: tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME"), precision, x, w)


def _dims(x):
    """The dimensions of `x`: static where known, else read at run time."""
    static = x.shape.as_list()
    if None not in static:
        return static
    dynamic = tf.shape(x)
    return [d if d is not None else dynamic[i] for i, d in enumerate(static)]


def _input_gates(x, w_x, b, precision):
    """The input part of every step's gate pre-activations, one convolution
    over all T frames: `[B, T, H, W, C]` (T static) => T tensors `[B, H, W, 4F]`."""
    _, T, H, W, C = _dims(x)
    g = tf.nn.bias_add(_conv(tf.reshape(x, [-1, H, W, C]), w_x, precision), b)
    return tf.unstack(tf.reshape(g, [-1, T, H, W, _dims(w_x)[-1]]), axis=1)


def _unroll(gates, w_h, precision, state=(None, None)):
    """The recurrence over steps with input pre-activations `gates` (a list
    over t) and hidden kernel `w_h`, from `state` = (c_0, h_0) (None: zeros,
    the first step then needs no hidden convolution) => lists `cs`, `hs`."""
    (c, h), cs, hs = state, [], []
    for g in gates:
        c, h = _cell(c, g if h is None else g + _conv(h, w_h, precision))
        cs.append(c)
        hs.append(h)
    return cs, hs


def _gates(g):
    """sigmoid(i), sigmoid(f), sigmoid(o), tanh(u) of pre-activations g."""
    i, f, o, u = tf.split(g, 4, axis=-1)
    return tf.sigmoid(i), tf.sigmoid(f), tf.sigmoid(o), tf.tanh(u)


def _cell(c_prev, g):
    """One ConvLSTM update from pre-activations g: `(c_t, h_t)`; c_prev None is 0."""
    si, sf, so, tu = _gates(g)
    c = si * tu if c_prev is None else sf * c_prev + si * tu
    return c, so * tf.tanh(c)


def _cell_backward(g, c_prev, c, dh, dc):
    """Backward of `_cell`: from dL/dh_t (dh) and the dL/dc_t carried from step
    t + 1 (dc, None: 0), the pre-activation gradient dL/dg_t and dL/dc_{t-1}.
    `SigmoidGrad(y, d)` = d y (1 - y) and `TanhGrad(y, d)` = d (1 - y²), one
    kernel each."""
    si, sf, so, tu = _gates(g)
    tc = tf.tanh(c)
    dc_t = tf.raw_ops.TanhGrad(y=tc, dy=dh * so)
    dc = dc_t if dc is None else dc_t + dc
    df = tf.zeros_like(dc) if c_prev is None else tf.raw_ops.SigmoidGrad(y=sf, dy=dc * c_prev)
    dg = tf.concat([tf.raw_ops.SigmoidGrad(y=si, dy=dc * tu), df,
                    tf.raw_ops.SigmoidGrad(y=so, dy=dh * tc),
                    tf.raw_ops.TanhGrad(y=tu, dy=dc * si)], axis=-1)
    return dg, dc * sf


def _recurrence(x, w, b, precision="fp32"):
    """ConvLSTM outputs `h_1..h_T` `[B, T, H, W, F]` of input `x` `[B, T, H, W, C]`,
    kernel `w` `[k, k, C + F, 4F]` and bias `b`, from zero states; every
    convolution in `precision`.

    Forward (`_forward`): the input half of the kernel is applied to all T
    frames in one convolution; the T steps are unrolled (T is static; at the
    sizes CPU users run a `tf.while_loop`'s per-iteration and build costs
    outweighed the work: docs/performance.md); step 1 has h_0 = 0 (no hidden
    convolution).

    Backward (`_backward`): hand-written backpropagation through time that
    keeps only the `(c_t, h_t)` of the forward pass (2F channels per step,
    where automatic differentiation keeps about 7F: every gate activation and
    product). Each step recomputes its gates from `[x_t, h_{t-1}]` once the
    step after it is done (a control dependency: one step's 4F gates alive
    at a time, as in a loop), and the gradients of `[x_t, h_{t-1}]` and of
    the kernel are one convolution each with the whole kernel, so no
    full-sequence buffer of the 4F-channel gate gradients is ever held.

    Both are graph functions (`tf.function`): a training step calls each
    ConvLSTM layer many times, and the graph holds one call op per call
    instead of the unrolled steps (pre-training graph at the CPU preset:
    50,527 => 20,567 ops; docs/performance.md). They are traced once per T
    and precision for every batch, size and width (`_per_steps`), so every layer of every
    network shares them. In an `InlinedGraph` they are built in place
    instead.
    """
    forward, backward = _functions(_forward, _backward)
    _, T, H, W, _ = static_shape(x, 5)
    F = static_shape(w, 4)[-1] // 4

    @tf.custom_gradient
    def recurrence(x, w, b):
        hs, cs = _shaped(forward(x, w, b, precision=precision), [[None, T, H, W, F]] * 2)
        return hs, lambda dhs: _shaped(backward(x, w, b, hs, cs, dhs, precision=precision),
                                       [x.shape, w.shape, b.shape])

    return recurrence(x, w, b)


class InlinedGraph(tf.Graph):
    """A graph in which the ConvLSTM recurrences and masked batch norms are
    built in place, not as graph-function calls: the same math, in ops the TF
    profiler can count (bench/flops.py)."""


def _functions(*graph_functions):
    """The graph functions themselves, or in an `InlinedGraph` their Python
    bodies (built in place)."""
    inline = isinstance(tf.get_default_graph(), InlinedGraph)
    return [f.python_function if inline else f for f in graph_functions]


def _shaped(tensors, shapes):
    """`tensors` with the static `shapes` the graph-function calls lose."""
    for tensor, shape in zip(tensors, shapes):
        tensor.set_shape(shape)
    return tensors


def _per_steps(*shapes):
    """Decorator: the function as graph functions traced once per number of
    steps T (the first argument's dimension 1) and per value of its keyword
    arguments (Python values such as `precision`) for tensor inputs of every
    other size. `shapes`: each tensor argument's rank as a shape of None, "T"
    where T goes. With the sizes free, one trace serves every layer of every
    network (the pre-training graph at the CPU preset held 40 traces, 4,396
    ops)."""
    def wrap(fn):
        traced = {}

        def call(*args, **static):
            key = (args[0].shape.as_list()[1],) + tuple(sorted(static.items()))
            if key not in traced:
                signature = [tf.TensorSpec([key[0] if d == "T" else d for d in shape], tf.float32)
                             for shape in shapes]
                traced[key] = tf.function(functools.partial(fn, **static), autograph=False,
                                          input_signature=signature)
            return traced[key](*args)

        call.python_function = fn
        return call
    return wrap


VIDEO, KERNEL, VECTOR = [None, "T", None, None, None], [None] * 4, [None]


@_per_steps(VIDEO, KERNEL, VECTOR)
def _forward(x, w, b, precision):
    """`_recurrence`'s forward => `(h, c)`, each `[B, T, H, W, F]`."""
    C = _dims(x)[-1]
    cs, hs = _unroll(_input_gates(x, w[:, :, :C], b, precision), w[:, :, C:], precision)
    return tf.stack(hs, axis=1), tf.stack(cs, axis=1)


@_per_steps(VIDEO, KERNEL, VECTOR, VIDEO, VIDEO, VIDEO)
def _backward(x, w, b, hs, cs, dhs, precision):
    """`_recurrence`'s backward: dL/dh of every step `dhs` => dL/d(x, w, b),
    the convolutions in `precision`."""
    T, C = x.shape.as_list()[1], _dims(x)[-1]
    F = _dims(w)[-1] // 4
    strides = [1, 1, 1, 1]
    w_x = w[:, :, :C]
    xs, hs, cs, dhs = (tf.unstack(v, axis=1) for v in (x, hs, cs, dhs))
    dxs, dws, dbs, dh, dc = [None] * T, [], [], 0.0, None
    for t in range(T - 1, -1, -1):
        xh, kernel = (xs[t], w_x) if t == 0 else (tf.concat([xs[t], hs[t - 1]], -1), w)
        with tf.control_dependencies([dc] if dc is not None else []):
            g = tf.nn.bias_add(_conv(xh, kernel, precision), b)   # one step's gates at a time
        dg, dc = _cell_backward(g, cs[t - 1] if t else None, cs[t], dhs[t] + dh, dc)
        dxh = in_precision(lambda k, d: tf.nn.conv2d_backprop_input(
            tf.shape(xh), k, d, strides, "SAME"), precision, kernel, dg)
        dw = in_precision(lambda x, d: tf.nn.conv2d_backprop_filter(
            x, tf.shape(kernel), d, strides, "SAME"), precision, xh, dg)
        dws.append(dw if t else tf.pad(dw, [[0, 0], [0, 0], [0, F], [0, 0]]))
        dbs.append(tf.reduce_sum(dg, [0, 1, 2]))
        dxs[t], dh = (dxh, 0.0) if t == 0 else tf.split(dxh, [C, F], axis=-1, num=2)
    return tf.stack(dxs, axis=1), tf.add_n(dws), tf.add_n(dbs)


# (choice) Decay of the batch-norm moving averages; the paper gives none. With
# 0.99 (TensorFlow's usual) the averages lag the weights by ~150 steps at the
# CPU preset: held-out accuracy 0.5 at step 100 with them, 1.0 with batch
# statistics (G_Y fitted supervised, docs/results.md); with 0.9 the two agree.
BN_DECAY = 0.9


def seq_batch_norm(x, is_training, mask=None, update_stats=True, decay=BN_DECAY, epsilon=1e-3,
                   scope="seq_bn"):
    """Sequence-wise batch normalization (paper §6.2) of `[B, T, H, W, C]`.

    In training the statistics are taken per channel over batch, all valid
    timesteps (where `mask` `[B, T]` is 1) and space; moving averages of them
    (`BN_DECAY`) are kept for inference and updated through
    `tf.GraphKeys.UPDATE_OPS` when `update_stats` is set. In inference the
    moving averages are used.
    """
    with tf.variable_scope(scope):
        C = static_shape(x, 5)[-1]
        beta = tf.get_variable("beta", [C], tf.float32, tf.zeros_initializer())
        gamma = tf.get_variable("gamma", [C], tf.float32, tf.ones_initializer())
        stat = dict(dtype=tf.float32, trainable=False,
                    collections=[tf.GraphKeys.GLOBAL_VARIABLES, tf.GraphKeys.MOVING_AVERAGE_VARIABLES])
        moving_mean = tf.get_variable("moving_mean", [C], initializer=tf.zeros_initializer(), **stat)
        moving_var = tf.get_variable("moving_variance", [C], initializer=tf.ones_initializer(), **stat)
        if mask is None or not is_training:        # one fused kernel on [B*T, H, W, C]
            x_bt, T = merge_time(x)
            y, mean, var = tf.nn.fused_batch_norm(
                x_bt, gamma, beta, None if is_training else moving_mean,
                None if is_training else moving_var, epsilon, is_training=is_training)
            if is_training:    # the kernel returns the unbiased variance: use the biased one
                n = tf.cast(tf.size(x_bt) // C, tf.float32)
                var *= (n - 1.0) / n
            y = split_time(y, T)
        else:
            y, mean, var = _masked_batch_norm(x, mask, gamma, beta, epsilon)
        if is_training and update_stats:
            for moving, value in ((moving_mean, mean), (moving_var, var)):
                tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, tf.assign_sub(
                    moving, (1.0 - decay) * (moving - tf.stop_gradient(value))))
        return y


def _masked_batch_norm(x, mask, gamma, beta, epsilon):
    """Batch norm of `x` `[B, T, H, W, C]` with the statistics of the steps
    where `mask` `[B, T]` is 1 => `(y, mean, var)` (biased variance). The
    gradient flows through y only: mean and var are returned as constants,
    for the moving averages.

    Forward and backward are graph functions traced once per shape (as the
    ConvLSTM's): automatic differentiation of the ~30 ops of the explicit
    form adds ~100 gradient ops per call; the hand-written backward is one
    call. Every step is normalized, padded ones too; the statistics come from
    the valid ones.
    """
    forward, backward = _functions(_masked_bn_forward, _masked_bn_backward)
    stats = []

    @tf.custom_gradient
    def normalize(x, gamma, beta):
        y, mean, var = _shaped(forward(x, mask, gamma, beta, epsilon),
                               [x.shape, gamma.shape, gamma.shape])
        stats.extend([mean, var])
        return y, lambda dy: _shaped(backward(x, mask, gamma, mean, var, dy, epsilon),
                                     [x.shape, gamma.shape, gamma.shape])

    y = normalize(x, gamma, beta)
    return (y,) + tuple(tf.stop_gradient(v) for v in stats)


def _valid(x, mask):
    """Weights `[B, T, 1, 1, 1]` of the valid steps and their count of positions."""
    _, _, H, W, _ = _dims(x)
    w = mask[:, :, None, None, None]
    return w, tf.reduce_sum(w) * tf.cast(H * W, tf.float32)


MASK, SCALAR = [None, "T"], []


@_per_steps(VIDEO, MASK, VECTOR, VECTOR, SCALAR)
def _masked_bn_forward(x, mask, gamma, beta, epsilon):
    """`_masked_batch_norm`'s forward (the ops of `tf.nn.batch_normalization`)."""
    w, count = _valid(x, mask)
    mean = tf.reduce_sum(x * w, [0, 1, 2, 3]) / count
    var = tf.reduce_sum(tf.square(x - mean) * w, [0, 1, 2, 3]) / count
    return tf.nn.batch_normalization(x, mean, var, beta, gamma, epsilon), mean, var


@_per_steps(VIDEO, MASK, VECTOR, VECTOR, VECTOR, VIDEO, SCALAR)
def _masked_bn_backward(x, mask, gamma, mean, var, dy, epsilon):
    """`_masked_batch_norm`'s backward, the textbook batch-norm gradient with
    sums Σ over every position and the statistics' share on valid ones (w):
    with r = (var + eps)^-1/2,
        dL/dx = γ r (dy - w (Σ dy + r² (x - mean) Σ dy (x - mean)) / count),
        dL/dγ = r Σ dy (x - mean),  dL/dβ = Σ dy."""
    w, count = _valid(x, mask)
    axes = [0, 1, 2, 3]
    centered, r = x - mean, tf.math.rsqrt(var + epsilon)
    d_beta = tf.reduce_sum(dy, axes)
    d_centered = tf.reduce_sum(dy * centered, axes)
    shift, scale = d_beta / count, r * r * d_centered / count
    dx = (gamma * r) * (dy - w * (shift + scale * centered))
    return dx, d_centered * r, d_beta


def _spatial(fn, x):
    """Apply a per-frame op `[N, H, W, C] => [N, H', W', C']` to a video."""
    x_bt, T = merge_time(x)
    return split_time(fn(x_bt), T)


def max_pool_2x2(x):
    """2x2 spatial max pooling of a video: halves H and W (rounding up), never T."""
    return _spatial(lambda f: tf.nn.max_pool(f, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"), x)


def upsample_2x(x):
    """2x nearest-neighbour spatial upsampling of a video: doubles H and W."""
    _, T, H, W, C = static_shape(x, 5)
    x = tf.tile(x[:, :, :, None, :, None, :], [1, 1, 1, 2, 1, 2, 1])
    return tf.reshape(x, [-1, T, 2 * H, 2 * W, C])


def conv2d_video(x, filters, kernel=1, regularizer=None, scope="conv", precision="fp32"):
    """Per-frame convolution of a video: `[B, T, H, W, C] => [B, T, H, W, filters]`."""
    return _spatial(lambda f: conv2d(f, filters, kernel, regularizer, scope, precision), x)


def last_step(x, lengths):
    """The frame at step `lengths - 1` of each clip: `[B, T, ...] => [B, ...]`.

    With `lengths` None, the last step T - 1.
    """
    if lengths is None:
        return x[:, -1]
    return tf.gather(x, tf.maximum(lengths - 1, 0), axis=1, batch_dims=1)


def append_frame(clip, lengths, frame):
    """`s ⧺ a` for right-padded clips: put `frame` `[B, H, W, C]` at step `lengths`.

    `clip` is `[B, T, H, W, C]` with `lengths` valid steps (each < T). Returns
    the clip with the frame written at step `lengths` (later steps zero) and
    `lengths + 1`.
    """
    T = static_shape(clip, 5)[1]
    steps = tf.range(T)[None, :]
    before = tf.cast(steps < lengths[:, None], clip.dtype)[:, :, None, None, None]
    at = tf.cast(tf.equal(steps, lengths[:, None]), clip.dtype)[:, :, None, None, None]
    return clip * before + frame[:, None] * at, lengths + 1
