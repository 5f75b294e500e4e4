"""The paper's building blocks (Fig. 4), all on ConvLSTM layers.

- R   (residual):  ConvLSTM -> sequence BN -> LeakyReLU, plus a shortcut
                   (identity, or a 1x1 projection when the width changes).
- RPB (residual, pooling, batch-norm): R -> 2x2 pooling -> sequence BN.
- URB (upsampling, residual, batch-norm): 2x upsampling -> R -> sequence BN.

Each block takes `[B, T, H, W, C]`, a `CallContext` (training switch, mask,
regularizer) and returns the transformed video.
"""
import collections

from . import ops
from .tf_compat import tf

CallContext = collections.namedtuple(
    "CallContext", "is_training mask update_stats regularizer normalize carry precision")
CallContext.__doc__ = """Per-call settings shared by every block of one network call.

is_training: python bool, batch statistics (True) or moving averages (False).
mask: `[B, T]` float mask of valid steps, or None.
update_stats: whether batch-norm moving averages are updated by this call.
regularizer: L2 regularizer for weights, or None (target networks).
normalize: False skips every batch norm (the identity): `--d_norm none`.
carry: an `ops.StateCarry` (stateful inference: ConvLSTM states in and out),
    or None (every call starts from zero states).
precision: "fp32" or "bf16", the dtype of convolutions and matmuls
    (`ops.in_precision`; `--precision`).
"""


def batch_norm(x, ctx, scope):
    if not ctx.normalize:
        return x
    return ops.seq_batch_norm(x, ctx.is_training, ctx.mask, ctx.update_stats, scope=scope)


def R(x, filters, ctx, scope="R"):
    """Residual block: `[B, T, H, W, C] => [B, T, H, W, filters]`."""
    with tf.variable_scope(scope):
        y = ops.conv_lstm(x, filters, regularizer=ctx.regularizer, carry=ctx.carry,
                          precision=ctx.precision)
        y = ops.leaky_relu(batch_norm(y, ctx, "bn"))
        shortcut = x if x.shape[-1] == filters else ops.conv2d_video(
            x, filters, 1, ctx.regularizer, scope="shortcut", precision=ctx.precision)
        return y + shortcut


def RPB(x, filters, ctx, scope="RPB"):
    """Residual-pooling-BN block: `[B, T, H, W, C] => [B, T, H/2, W/2, filters]`.

    Returns `(output, pre_pool)`; `pre_pool` (`[B, T, H, W, filters]`) feeds
    the skip connection to the mirrored URB.
    """
    with tf.variable_scope(scope):
        r = R(x, filters, ctx)
        return batch_norm(ops.max_pool_2x2(r), ctx, "bn"), r


def URB(x, filters, ctx, skip=None, scope="URB"):
    """Upsampling-residual-BN block: `[B, T, H, W, C] => [B, T, 2H, 2W, filters]`.

    `skip` (the mirrored RPB's pre-pooling features) is added after R.
    """
    with tf.variable_scope(scope):
        y = R(ops.upsample_2x(x), filters, ctx)
        if skip is not None:
            y += skip
        return batch_norm(y, ctx, "bn")
