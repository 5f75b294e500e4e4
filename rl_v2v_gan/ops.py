"""Raw layers from `tf.get_variable` and `tf.nn`: the ConvLSTM cell,
sequence-wise batch normalization, convolutions, pooling, upsampling, FC.

Every video tensor is `[batch, T, H, W, C]` (NTHWC). The batch size may be
unknown at graph-build time; T, H, W and C must be static.

Variable-length clips are right-padded to a common T and described by
`lengths` (int32 `[batch]`, each in 1..T). Layers are causal in time, so the
outputs at valid steps equal those of the unpadded clip; padded steps are
ignored by the masked normalization and by the losses.
"""
from .tf_compat import tf

XAVIER = tf.glorot_uniform_initializer()
LEAKY_SLOPE = 0.2


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


def weight(name, shape, regularizer=None):
    """A Xavier-initialized weight, L2-regularized when `regularizer` is set."""
    return tf.get_variable(name, shape, tf.float32, XAVIER, regularizer=regularizer)


def bias(name, size, value=0.0):
    return tf.get_variable(name, [size], tf.float32, tf.constant_initializer(value))


def conv2d(x, filters, kernel=3, regularizer=None, scope="conv"):
    """'SAME' 2-D convolution with bias: `[N, H, W, C] => [N, H, W, filters]`."""
    with tf.variable_scope(scope):
        C = static_shape(x, 4)[-1]
        w = weight("kernel", [kernel, kernel, C, filters], regularizer)
        return tf.nn.bias_add(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME"), bias("bias", filters))


def dense(x, units, regularizer=None, scope="fc"):
    """Fully connected layer: `[N, D] => [N, units]`."""
    with tf.variable_scope(scope):
        D = static_shape(x, 2)[-1]
        return tf.matmul(x, weight("kernel", [D, units], regularizer)) + bias("bias", units)


def leaky_relu(x):
    return tf.nn.leaky_relu(x, alpha=LEAKY_SLOPE)


def conv_lstm(x, filters, kernel=3, regularizer=None, scope="conv_lstm"):
    """Convolutional LSTM layer: `[B, T, H, W, C] => [B, T, H, W, filters]`.

    The gates are one 'SAME' convolution over `[x_t, h_{t-1}]` (kernel
    `[k, k, C + filters, 4 * filters]`, split into i, f, o, u):
        c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(u)
        h_t = sigmoid(o) * tanh(c_t)
    with h_0 = c_0 = 0. For speed the input half of the kernel is applied to
    all T frames in one convolution outside the recurrence, and the hidden half
    is skipped at t = 1 where h_0 = 0; the result is the same. Steps 2..T run
    in a `tf.scan`, so the graph does not grow with T. The forget bias starts
    at 1. Works for any T >= 1.
    """
    with tf.variable_scope(scope):
        x_bt, T = merge_time(x)
        _, H, W, C = static_shape(x_bt, 4)
        w = weight("kernel", [kernel, kernel, C + filters, 4 * filters], regularizer)
        b = tf.get_variable("bias", [4 * filters], tf.float32, tf.constant_initializer(
            [0.0] * filters + [1.0] * filters + [0.0] * (2 * filters)))  # i, f, o, u
        w_x, w_h = w[:, :, :C], w[:, :, C:]
        gates_x = split_time(tf.nn.bias_add(tf.nn.conv2d(x_bt, w_x, [1, 1, 1, 1], "SAME"), b), T)

        def cell(c, gates):
            i, f, o, u = tf.split(gates, 4, axis=-1)
            c = tf.sigmoid(i) * tf.tanh(u) if c is None else tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(u)
            return c, tf.sigmoid(o) * tf.tanh(c)

        def step(state, gates):
            c, h = state
            return cell(c, gates + tf.nn.conv2d(h, w_h, [1, 1, 1, 1], "SAME"))

        first = cell(None, gates_x[:, 0])                                   # t = 1: h_0 = 0
        if T == 1:
            return first[1][:, None]
        _, hs = tf.scan(step, tf.transpose(gates_x[:, 1:], [1, 0, 2, 3, 4]), initializer=first)
        return tf.concat([first[1][:, None], tf.transpose(hs, [1, 0, 2, 3, 4])], axis=1)


def seq_batch_norm(x, is_training, mask=None, update_stats=True, decay=0.99, epsilon=1e-3,
                   scope="seq_bn"):
    """Sequence-wise batch normalization (paper §6.2) of `[B, T, H, W, C]`.

    In training the statistics are taken per channel over batch, all valid
    timesteps (where `mask` `[B, T]` is 1) and space; moving averages of them
    are kept for inference and updated through `tf.GraphKeys.UPDATE_OPS` when
    `update_stats` is set. In inference the moving averages are used.
    """
    with tf.variable_scope(scope):
        C = static_shape(x, 5)[-1]
        beta = tf.get_variable("beta", [C], tf.float32, tf.zeros_initializer())
        gamma = tf.get_variable("gamma", [C], tf.float32, tf.ones_initializer())
        stat = dict(dtype=tf.float32, trainable=False,
                    collections=[tf.GraphKeys.GLOBAL_VARIABLES, tf.GraphKeys.MOVING_AVERAGE_VARIABLES])
        moving_mean = tf.get_variable("moving_mean", [C], initializer=tf.zeros_initializer(), **stat)
        moving_var = tf.get_variable("moving_variance", [C], initializer=tf.ones_initializer(), **stat)
        if not is_training:
            mean, var = moving_mean, moving_var
        elif mask is None:
            mean, var = tf.nn.moments(x, [0, 1, 2, 3])
        else:
            w = mask[:, :, None, None, None]
            count = tf.reduce_sum(w) * float(x.shape[2] * x.shape[3])
            mean = tf.reduce_sum(x * w, [0, 1, 2, 3]) / count
            var = tf.reduce_sum(tf.square(x - mean) * w, [0, 1, 2, 3]) / count
        if is_training and update_stats:
            for moving, value in ((moving_mean, mean), (moving_var, var)):
                tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, tf.assign_sub(
                    moving, (1.0 - decay) * (moving - tf.stop_gradient(value))))
        return tf.nn.batch_normalization(x, mean, var, beta, gamma, epsilon)


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


def conv2d_video(x, filters, kernel=1, regularizer=None, scope="conv"):
    """Per-frame convolution of a video: `[B, T, H, W, C] => [B, T, H, W, filters]`."""
    return _spatial(lambda f: conv2d(f, filters, kernel, regularizer, scope), x)


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
