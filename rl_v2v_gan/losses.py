"""The losses of RL-V2V-GAN, eq. (1)-(10) (paper §3.2-§3.4).

Adversarial terms work on logits. Each adversarial equation returns a
`(d_loss, g_loss)` pair built from two per-sample costs (`real_cost`,
`fake_cost`) in one of two forms (`--gan_loss`):
- "nonsaturating" (the paper's log terms): `d_loss` is the negated value D
  maximizes, `-[log D(real) + log(1 - D(fake))]` (numerically stable sigmoid
  cross-entropy on logits); `g_loss` is the non-saturating `-log D(fake)`.
- "least_squares" (choice, Mao et al. 2017, as in CycleGAN and RecycleGAN):
  `(D(real) - 1)² + D(fake)²` for D and `(D(fake) - 1)²` for G, on the raw
  outputs; its gradients do not vanish when D is confident.

The same functions serve the three places eq. (10) is used: pre-training
(both sides of every equation), Algorithm 1's discriminator step (the real
side of one domain's equations, the generated side of the other's) and its
rewards (`transition_loss`, per sample, from `generator_cost` and
`frame_error`).

(choice) Sums over frames, pixels and clips are means, so the lambda weights
do not depend on T, the image size or the batch size.
(choice) In eq. (1)-(2) the real frames `y_s`, `y_t` are the frames of the
real Y clips and `x_s` those of the X clips; the style term uses Z_hat.
"""
import collections

from .tf_compat import tf

Adversarial = collections.namedtuple("Adversarial", "d_loss g_loss")
GAN_LOSSES = ("nonsaturating", "least_squares")


def _check_form(form):
    if form not in GAN_LOSSES:
        raise ValueError("GAN loss form must be one of %s, got %r" % (GAN_LOSSES, form))


def real_cost(logits, form="nonsaturating"):
    """Per-element cost of D judging its input real: `-log D(v)` = softplus(-logit)
    (nonsaturating) or `(D(v) - 1)²` (least_squares). D minimizes it on real
    inputs, G (non-saturating form) on generated ones."""
    _check_form(form)
    return tf.nn.softplus(-logits) if form == "nonsaturating" else tf.square(logits - 1.0)


def fake_cost(logits, form="nonsaturating"):
    """Per-element cost of D judging its input generated: `-log(1 - D(v))` =
    softplus(logit) (nonsaturating) or `D(v)²` (least_squares)."""
    _check_form(form)
    return tf.nn.softplus(logits) if form == "nonsaturating" else tf.square(logits)


def bce(logits, label, mask=None, form="nonsaturating"):
    """Mean `real_cost` (label 1) or `fake_cost` (label 0) of `logits`, masked
    mean if `mask`; for the nonsaturating form the sigmoid cross-entropy."""
    cost = real_cost if label == 1.0 else fake_cost
    return masked_mean(cost(logits, form), mask)


def masked_mean(values, mask=None):
    """Mean of `values` over entries where `mask` (broadcastable to it) is 1."""
    if mask is None:
        return tf.reduce_mean(values)
    mask = tf.broadcast_to(mask, tf.shape(values))
    return tf.reduce_sum(values * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


# The heads of D whose `-log D(G(.))` each adversarial equation gives the
# generator: D_Y,0 for frames (eq. 1), both D_Y heads for videos (eq. 9).
FAKE_HEADS = {"L_g_X": (0,), "L_g_Y": (0,), "L_vX": (0,), "L_vY": (0, 1)}


def generator_cost(equation, fake, form="nonsaturating"):
    """G's per-element cost in `equation` ("L_g_X", "L_g_Y", "L_vX", "L_vY"):
    `real_cost` of D's logits `fake` `[..., n]` of generated inputs, summed
    over the equation's `FAKE_HEADS` => `[...]`. The mean is the equation's
    `g_loss`; Algorithm 1's rewards use it per sample."""
    return tf.add_n([real_cost(fake[..., k], form) for k in FAKE_HEADS[equation]])


def _equation(name, real, fake, mask_fake, form):
    """`Adversarial` of one equation from its real parts (`(logits, mask)`,
    logits None = absent) and D's logits `fake` of generated inputs (None =
    absent). A discriminator step of Algorithm 1 sees only the real side of
    one domain's equations and the generated side of the other's."""
    d_parts = [bce(logits, 1.0, mask, form) for logits, mask in real if logits is not None]
    g_loss = tf.constant(0.0)
    if fake is not None:
        d_parts += [bce(fake[..., k], 0.0, mask_fake, form) for k in FAKE_HEADS[name]]
        g_loss = masked_mean(generator_cost(name, fake, form), mask_fake)
    return Adversarial(tf.add_n(d_parts) if d_parts else tf.constant(0.0), g_loss)


def _head(logits, k):
    return None if logits is None else logits[..., k]


def frame_logits(D, clip, **kwargs):
    """D applied to every frame as a clip of length 1: `[B, T, H, W, 3] => [B, T, n]`."""
    T, H, W, C = clip.shape.as_list()[1:]
    logits = D(tf.reshape(clip, [-1, 1, H, W, C]), **kwargs)
    return tf.reshape(logits, [-1, T, logits.shape[-1]])


def L_g_Y(d_y_real=None, d_y_style=None, d_y_fake=None, mask_real=None, mask_fake=None,
          form="nonsaturating"):
    """Frame adversarial loss of G_Y and D_Y, eq. (1).

    d_y_real: `[B, T, 2]` D_Y logits of real Y frames (head 0 used);
    d_y_style: `[N, 2]` D_Y logits of Z_hat images (head 1 used);
    d_y_fake: `[B, T, 2]` D_Y logits of the frames of G_Y(x) (head 0 used).
    Masks `[B, T]` select valid frames. Absent (None) parts are left out.
    """
    return _equation("L_g_Y", [(_head(d_y_real, 0), mask_real), (_head(d_y_style, 1), None)],
                     d_y_fake, mask_fake, form)


def L_g_X(d_x_real=None, d_x_fake=None, mask_real=None, mask_fake=None, form="nonsaturating"):
    """Frame adversarial loss of G_X and D_X, eq. (2).

    d_x_real: `[B, T, 1]` D_X logits of real X frames; d_x_fake: `[B', T, 1]`
    logits of the frames of G_X(y) and G_X(z) (stacked on the batch axis).
    """
    return _equation("L_g_X", [(_head(d_x_real, 0), mask_real)], d_x_fake, mask_fake, form)


def frame_error(a, b):
    """Per-frame mean squared error `||a - b||^2` of frames `[..., H, W, C] => [...]`,
    the summand of eq. (3)-(6)."""
    return tf.reduce_mean(tf.square(a - b), axis=[-3, -2, -1])


def L_rr(clip, predictions, lengths=None):
    """Recurrent loss of a predictor, eq. (3)-(4): mean_t ||v_{t+1} - P(v_{1:t})||^2.

    clip, predictions: `[B, T, H, W, 3]`; `predictions[:, t]` (P's output
    after seeing frames 0..t) predicts `clip[:, t + 1]`. With `lengths`, only
    targets inside the valid prefix count.
    """
    error = frame_error(clip[:, 1:], predictions[:, :-1])                  # [B, T-1]
    mask = None if lengths is None else tf.sequence_mask(lengths - 1, error.shape[1], tf.float32)
    return masked_mean(error, mask)


RECYCLE_FRAMES = ("next", "all")


def L_rc(clip, t, back, frames="next"):
    """Recycle loss, eq. (5)-(6): ||v_{t+1} - G(G'(v_{1:t}) ⧺ P(G'(v_{1:t})))_{t+1}||^2.

    clip: `[B, T, H, W, 3]` real clips; t: `[B]` prefix lengths in 1..T-1;
    back: `[B, T, H, W, 3]`, the translated-back clip `G(G'(v_{1:t}) ⧺ P(...))`
    (valid for t + 1 steps). frames "next" (the paper's): only its frame
    t + 1 counts, compared with `clip[:, t]` (0-based). frames "all"
    (choice): the mean over its t + 1 frames; frames 1..t are then the cycle
    terms ||v_k - G(G'(v_{1:t}))_k||^2 of CycleGAN and RecycleGAN, which the
    same network call computes anyway.
    """
    if frames not in RECYCLE_FRAMES:
        raise ValueError("recycle frames must be one of %s, got %r" % (RECYCLE_FRAMES, frames))
    if frames == "next":
        target, reconstruction = (tf.gather(v, t, axis=1, batch_dims=1) for v in (clip, back))
        return tf.reduce_mean(frame_error(target, reconstruction))
    error = frame_error(clip, back)                                         # [B, T]
    return masked_mean(error, tf.sequence_mask(t + 1, error.shape[1], tf.float32))


def L_id(clip, translated):
    """Identity term (choice, not in the paper; CycleGAN, Zhu et al. 2017 §5.2):
    mean ||v - G(v)||^2 for clips v already in G's output domain, so G keeps
    what needs no change (object colours). `--lambda_id` weighs it, 0 = off."""
    return tf.reduce_mean(frame_error(clip, translated))


def L_vX(d_x_real=None, d_x_fake=None, mask_real=None, mask_fake=None, form="nonsaturating"):
    """Video loss of X, eq. (8): log D_X(x) + log(1 - D_X(G_X(y))) + log(1 - D_X(G_X(z))).

    d_x_real: `[B, 1]` D_X logits of real X clips; d_x_fake: `[B', 1]` of
    G_X(y) and G_X(z) clips; masks `[B]`.
    """
    return _equation("L_vX", [(_head(d_x_real, 0), mask_real)], d_x_fake, mask_fake, form)


def L_vY(d_y_real=None, d_y_style=None, d_y_fake=None, mask_real=None, mask_style=None,
         mask_fake=None, form="nonsaturating"):
    """Video loss of Y, eq. (9):
    log D_Y,0(y) + log D_Y,1(z) + log(1 - D_Y,0(G_Y(x))) + log(1 - D_Y,1(G_Y(x))).

    d_y_real: `[B, 2]` D_Y logits of real Y clips; d_y_style: of Z clips;
    d_y_fake: of G_Y(x) clips; masks `[B]`.
    """
    return _equation("L_vY", [(_head(d_y_real, 0), mask_real), (_head(d_y_style, 1), mask_style)],
                     d_y_fake, mask_fake, form)


WEIGHT_OF = {"L_g_X": None, "L_g_Y": None, "L_rr_X": "lambda_rx", "L_rr_Y": "lambda_ry",
             "L_rc_X": "lambda_rcx", "L_rc_Y": "lambda_rcy", "L_v": "lambda_v",
             "L_id_X": "lambda_id", "L_id_Y": "lambda_id"}


def total(terms, weights):
    """Weighted total of eq. (10): L_g^X + L_g^Y + lambda_rx L_rr^X + lambda_ry L_rr^Y
    + lambda_rcx L_rc^X + lambda_rcy L_rc^Y + lambda_v L_v (+ lambda_id (L_id^X + L_id^Y),
    choice).

    terms: dict with (some of) the scalars `L_g_X, L_g_Y, L_rr_X, L_rr_Y,
    L_rc_X, L_rc_Y, L_v`, missing ones count as 0 (a part of the sum);
    weights: dict with `lambda_rx, lambda_ry, lambda_rcx, lambda_rcy, lambda_v`.
    """
    return tf.add_n([terms[k] * (weights[w] if w else 1.0)
                     for k, w in sorted(WEIGHT_OF.items()) if k in terms])


def transition_loss(d, frame_logits, video_logits, action, recycled, true_next, terminal,
                    weights, form="nonsaturating"):
    """Per-sample loss L of Algorithm-1 transitions of domain d, whose reward
    is a decreasing map of it (`rl.reward_from_loss`): eq. (10)'s terms at the
    step the action fills, `[B]`.

    Non-terminal: G's frame cost of eq. (1)/(2) on the action + lambda_r
    ||a_true - a||^2 (eq. 3-4 at this step) + lambda_rc ||a_true - a2||^2
    (eq. 5-6, `recycled` the candidate a2). Terminal (the action completes
    the clip): lambda_v times G's video cost of eq. (8)/(9).
    frame_logits, video_logits: D_d's logits `[B, n]` of the action frame and
    of the clip it completes; action, recycled, true_next `[B, H, W, 3]`;
    terminal `[B]` bool; weights as in `total`.
    """
    frame = (generator_cost("L_g_" + d, frame_logits, form)
             + weights[WEIGHT_OF["L_rr_" + d]] * frame_error(action, true_next)
             + weights[WEIGHT_OF["L_rc_" + d]] * frame_error(recycled, true_next))
    video = weights["lambda_v"] * generator_cost("L_v" + d, video_logits, form)
    return tf.where(terminal, video, frame)
