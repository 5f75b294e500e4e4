"""The eight networks of RL-V2V-GAN (paper §3.2, §3.4, §4, Table 1).

| symbol        | body                                                          |
|---------------|---------------------------------------------------------------|
| G_X, G_Y      | 3 RPB -> 3 URB (skips RPB_i <-> URB_{4-i}) -> ConvLSTM -> tanh |
| P_X, P_Y      | same as G; output step t predicts frame t + 1                 |
| D_X           | 3 RPB -> 2 RPB -> FC -> FC, 1 logit (sigmoid)                 |
| D_Y           | same, 2 logits: D_Y,0 "target domain", D_Y,1 "target style"   |
| Q_X, Q_Y      | same on concat_time(s, a), 1 output, ReLU                     |

`G_X` outputs domain X and `G_Y` outputs domain Y (eq. 1-2). Each network
lives under a `variable_scope` named after its symbol (`target_` prepended
for the DDPG target copies) and is called as often as needed with shared
variables.

(choice) The generator's last layer is a ConvLSTM with 3 channels followed
by a 1x1 convolution and tanh: a ConvLSTM's own output o*tanh(c) cannot
reach -1 (the black backgrounds of the synthetic data) on the first frame.
(choice, `--output_filters N`) That ConvLSTM may be wider than 3: with 3
channels of gated output per pixel, both the colour and the clip's time
must pass through them, and the generators learned the synthetic
background schedule late or never (docs/investigation.md).
(choice) Discriminators and critics read the features of the last valid
step: the ConvLSTM state has seen the whole clip.

Memory: networks given a `recompute.Recompute` recompute the forward of
their training-mode calls in the backward pass.
"""
import collections

from . import blocks, ops
from .tf_compat import tf

SYMBOLS = ("G_X", "G_Y", "P_X", "P_Y", "D_X", "D_Y", "Q_X", "Q_Y")
POLICY = ("G_X", "G_Y", "P_X", "P_Y")  # mu in Algorithm 1
CRITICS = ("Q_X", "Q_Y")
DISCRIMINATORS = ("D_X", "D_Y")


def check_video(x, name="clip"):
    """Validate a `[B, T, H, W, 3]` input at graph-build time."""
    shape = x.shape.as_list()
    if len(shape) != 5 or any(d is None for d in shape[1:]):
        raise ValueError("%s must be [batch, T, H, W, 3] with static T, H, W; got %s" % (name, shape))
    _, T, H, W, C = shape
    if C != 3:
        raise ValueError("%s must have 3 (RGB) channels, got %d" % (name, C))
    if H % 8 or W % 8:
        raise ValueError("%s: H and W must be divisible by 8 (three 2x poolings), "
                         "got H=%d W=%d" % (name, H, W))
    return shape


def auto_encoder(clip, filters, ctx, outputs=3, output_filters=3):
    """G / P body: `[B, T, H, W, 3] => [B, T, H, W, 3]` in (-1, 1).

    `output_filters`: channels of the last ConvLSTM (3 in Table 1).
    """
    f1, f2, f3 = filters
    e1, r1 = blocks.RPB(clip, f1, ctx, "RPB_1")    # [B, T, H/2, W/2, f1]; r1: [B, T, H, W, f1]
    e2, r2 = blocks.RPB(e1, f2, ctx, "RPB_2")      # [B, T, H/4, W/4, f2]; r2: [B, T, H/2, W/2, f2]
    e3, r3 = blocks.RPB(e2, f3, ctx, "RPB_3")      # [B, T, H/8, W/8, f3]; r3: [B, T, H/4, W/4, f3]
    d1 = blocks.URB(e3, f3, ctx, r3, "URB_1")      # [B, T, H/4, W/4, f3]
    d2 = blocks.URB(d1, f2, ctx, r2, "URB_2")      # [B, T, H/2, W/2, f2]
    d3 = blocks.URB(d2, f1, ctx, r1, "URB_3")      # [B, T, H, W, f1]
    h = ops.conv_lstm(d3, output_filters, regularizer=ctx.regularizer, scope="out_conv_lstm",
                      carry=ctx.carry, precision=ctx.precision)   # [B, T, H, W, output_filters]
    return tf.tanh(ops.conv2d_video(h, outputs, 1, ctx.regularizer, scope="out_proj",
                                    precision=ctx.precision))


def classifier(clip, filters, ctx, lengths, outputs, steps=False):
    """D / Q body: `[B, T, H, W, 3] => [B, outputs]` pre-activations, read at
    the last valid step; with `steps`, at every step: `[B, T, outputs]`."""
    f1, f2, f3 = filters
    x = clip
    for i, f in enumerate((f1, f2, f3, f3, f3)):   # 3 RPB encoder + 2 RPB: H => ceil(H/32)
        x, _ = blocks.RPB(x, f, ctx, "RPB_%d" % (i + 1))
    if not steps:
        x = ops.last_step(x, lengths)[:, None]    # [B, 1, H/32, W/32, f3]
    _, T, h, w, c = x.shape.as_list()
    x = tf.reshape(x, [-1, h * w * c])
    x = ops.leaky_relu(ops.dense(x, f3, ctx.regularizer, "fc_1", ctx.precision))  # [B * T, f3]
    x = tf.reshape(ops.dense(x, outputs, ctx.regularizer, "fc_2", ctx.precision), [-1, T, outputs])
    return x if steps else x[:, 0]


class Network(object):
    """One network of Table 1 under `variable_scope(name)`, callable many times.

    Calls take `is_training` (batch statistics or moving averages),
    `lengths` (`[B]` valid steps of right-padded clips, None = all) and
    `update_stats` (whether this call updates batch-norm moving averages).
    `outputs`: channels of a generated frame, or logits of a discriminator
    (D_Y: 2) or critic (1). With
    `recompute` (a `recompute.Recompute`), training-mode calls are recomputed
    in the backward pass. `precision`: the convolutions' and matmuls' dtype
    ("fp32", "bf16"; `--precision`). `augment`: training-mode calls see
    `ops.diff_augment` of their input (discriminators, `--d_augment on`).
    """

    def __init__(self, name, kind, filters, l2, outputs=1, per_frame=False, recompute=None,
                 normalize=True, spectral=False, output_filters=3, precision="fp32",
                 augment=False):
        self.name, self.kind, self.filters, self.per_frame = name, kind, tuple(filters), per_frame
        self.augment = augment
        self.precision = precision
        self.outputs = outputs
        self.normalize, self.output_filters = normalize, output_filters
        self.getter = _spectral_getter if spectral else None
        self.regularizer = (lambda w: l2 * tf.nn.l2_loss(w)) if l2 else None
        self.recompute = recompute

    def _body(self, clip, lengths, is_training, update_stats, steps=False, carry=None):
        """The network on `clip` (critics: the action already appended)."""
        ctx = blocks.CallContext(is_training, ops.time_mask(lengths, clip.shape[1]), update_stats,
                           self.regularizer, self.normalize, carry, self.precision)
        with tf.variable_scope(self.name, reuse=tf.AUTO_REUSE, use_resource=True,
                               custom_getter=self.getter):
            if self.kind == "auto_encoder":
                return auto_encoder(clip, self.filters, ctx, self.outputs, self.output_filters)
            logits = classifier(clip, self.filters, ctx, lengths, self.outputs, steps)
            return tf.nn.relu(logits)[:, 0] if self.kind == "critic" else logits

    def __call__(self, clip, action=None, is_training=True, lengths=None, update_stats=True,
                 steps=False, carry=None):
        """G, P: `[B, T, H, W, 3]` => frames `[B, T, H, W, 3]` (tanh).
        D: clip => logits `[B, 1]` (D_X) or `[B, 2]` (D_Y: domain, style) of
        the last valid step; with `steps`, of every step t (D having seen
        frames 1..t, it is causal): `[B, T, 1 or 2]`.
        Q: state `[B, T, H, W, 3]`, action `[B, H, W, 3]` => Q(s, a) `[B]` >= 0,
        the action appended at step `lengths` (or after the clip).
        `carry` (an `ops.StateCarry`, inference): the ConvLSTM states start
        from its inputs and end in its outputs; the frame-based baseline
        has no state to carry.
        """
        _, T, H, W, C = check_video(clip, self.name + " input")
        if self.per_frame and T > 1:    # frame-based baseline: every frame a clip of length 1
            frames = tf.reshape(clip, [-1, 1, H, W, C])
            return tf.reshape(self(frames, is_training=is_training, update_stats=update_stats),
                              [-1, T, H, W, C])
        if self.kind == "critic":
            if action is None:
                raise ValueError("%s needs an action" % self.name)
            if lengths is None:
                clip = tf.concat([clip, action[:, None]], axis=1)
            else:
                clip, lengths = ops.append_frame(clip, lengths, action)
        if self.augment and is_training:
            clip = ops.diff_augment(clip)
        if self.recompute is not None and is_training:
            return self.recompute(lambda c, first: self._body(c, lengths, True, update_stats and first,
                                                          steps), clip)
        return self._body(clip, lengths, is_training, update_stats, steps, carry)

    def variables(self, trainable_only=False):
        key = tf.GraphKeys.TRAINABLE_VARIABLES if trainable_only else tf.GraphKeys.GLOBAL_VARIABLES
        return tf.get_collection(key, scope=self.name + "/")

    def variables_by_name(self):
        """{name inside this network's scope: variable}, e.g. "RPB_1/R/conv_lstm/kernel"."""
        return {v.op.name[len(self.name) + 1:]: v for v in self.variables()}

    def regularization_loss(self):
        """Sum of the L2 terms (paper §6.2: 0.001) of this network's weights."""
        return tf.add_n(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES, scope=self.name + "/")
                        or [tf.constant(0.0)])


def _spectral_getter(getter, name, *args, **kwargs):
    """Every kernel of the network spectrally normalized where it is read
    (`--d_norm spectral`); biases and the stored variables unchanged."""
    variable = getter(name, *args, **kwargs)
    return ops.spectral_normalized(variable) if name.endswith("/kernel") else variable


Networks = collections.namedtuple("Networks", SYMBOLS)

KIND = {"G": "auto_encoder", "P": "auto_encoder", "D": "discriminator", "Q": "critic"}
# Output channels (G, P: RGB frames) or logits (D_Y: domain and style heads).
OUTPUTS = {"G_X": 3, "G_Y": 3, "P_X": 3, "P_Y": 3, "D_X": 1, "D_Y": 2, "Q_X": 1, "Q_Y": 1}


def build_networks(filters, l2=0.001, prefix="", symbols=SYMBOLS, model="rl_v2v_gan",
                   recompute=None, d_norm="none", output_filters=8, precision="fp32",
                   d_augment="off"):
    """The networks of Table 1 as a `Networks` tuple (None where not in `symbols`).

    `prefix="target_"` gives the DDPG target copies (no L2 term); their
    variables exist once they are first called. `model="frame"` makes the
    generators G_X, G_Y frame-based (the paper's Fig. 1 baseline): the same
    network applied to every frame on its own, as a clip of length 1.
    `recompute`: a `recompute.Recompute` (None: off). `d_norm="none"` (as
    `--d_norm`) builds the discriminators without batch norm (choice,
    docs/investigation.md; "batch": the paper's): with batch norm, D's output
    on a batch of real and generated clips is nearly blind to a change that
    moves all generated clips together, and the generators learn little.
    `d_norm="spectral"`: no batch norm, every kernel of D_X, D_Y divided by
    its largest singular value (`ops.spectral_normalized`).
    `output_filters`: see `auto_encoder` (G and P; 8 as `--output_filters`,
    Table 1: 3). `precision`: as `--precision` ("fp32", "bf16").
    `d_augment="on"`: D_X, D_Y see `ops.diff_augment` of every clip they
    judge in training mode (`--d_augment`).
    """
    if len(filters) != 3 or min(filters) < 1:
        raise ValueError("filters: need three positive widths, got %s" % (list(filters),))
    return Networks(*[
        Network(prefix + s, KIND[s[0]], filters, 0.0 if prefix else l2, OUTPUTS[s],
                per_frame=(model == "frame" and s[0] == "G"), recompute=recompute,
                normalize=(d_norm == "batch" or s[0] != "D"),
                spectral=(d_norm == "spectral" and s[0] == "D"), output_filters=output_filters,
                precision=precision, augment=(d_augment == "on" and s[0] == "D"))
        if s in symbols else None
        for s in SYMBOLS])
