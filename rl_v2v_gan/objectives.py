"""Eq. (10) on the networks (paper §3.2-§3.4): the pre-training objective,
and the pieces Algorithm 1 shares with it (how D reads a clip, the
translated-back clip of the recycle loss).

`pretrain_losses(nets, batch, args)` is eq. (10) on one batch; the training
graph builds it as `pretrain_parts`, three parts differentiated one after the
other so that only one part's activations are alive at a time:

    y_to_x      G_X on Y ∪ Z; D_X's frame (eq. 2) and video (eq. 8) terms;
                L_rc^Y (eq. 6); the identity term of G_X
    x_to_y      G_Y on X; D_Y's frame (eq. 1) and video (eq. 9) terms;
                L_rc^X (eq. 5); the identity term of G_Y
    recurrent   L_rr^X, L_rr^Y (eq. 3-4) of the predictors

Each part returns its named terms, its share of the generators' and
predictors' loss `G_loss` (eq. 10 with the lambdas, `losses.total`) and of
the discriminators' `D_loss` (the negated value D maximizes).
"""
from . import losses, ops
from .tf_compat import tf


def recycle_clip(G_back, P_other, translated, t, **kw):
    """`G_back(s̃ ⧺ P_other(s̃))` for `s̃ = translated[:, :t]` (eq. 5-6).

    translated: `[B, T, H, W, 3]` clip in the other domain; t: `[B]` in 1..T-1.
    Returns the translated-back clip `[B, T, H, W, 3]`, valid for t + 1 steps.
    """
    predicted = ops.last_step(P_other(translated, lengths=t, **kw), t)
    clip, lengths = ops.append_frame(translated, t, predicted)
    return G_back(clip, lengths=lengths, **kw)


def temporal_negatives(y, bounce=True, shift=True):
    """Real clips in a wrong time order (choice), shown to D_Y as generated
    so it learns when each look belongs. `[B, T, ...] => list of [B, T, ...]`.

    bounce (`--bounce_negatives`): the first half played forward and back,
        the last half backward and forward (all frames from one half, the
        motion continuous).
    shift (`--shift_negatives`): the clip one frame late (frame 1 shown
        twice) and one frame early (frame T last shown twice): every change
        of look one step off its time.
    """
    T = y.shape.as_list()[1]
    orders = []
    if bounce:
        k = (T + 1) // 2                                     # frames in the first half
        tri = [k - 1 - abs(t % max(2 * k - 2, 1) - (k - 1)) for t in range(T)]  # 0..k-1..0..
        orders += [tri, [T - 1 - i for i in tri]]
    if shift:
        orders += [[max(t - 1, 0) for t in range(T)], [min(t + 1, T - 1) for t in range(T)]]
    return [tf.gather(y, order, axis=1) for order in orders]


def negatives_of(y, args):
    """`temporal_negatives` of real Y clips as the flags choose them."""
    return temporal_negatives(y, args.bounce_negatives == "on", args.shift_negatives == "on")


def judge(D, clip, frame_terms, lengths=None, **kw):
    """D's logits for the frame terms and the video term of clips:
    `(frames [B, T, n], videos [B, n])`.

    frame_terms "single" (the paper's wording, §3.2): frame t is judged alone,
    as a clip of length 1, and the video in a second call (read at step T:
    `lengths` only applies to "prefix").
    frame_terms "prefix" (choice): one causal pass; frame t is judged by D's
    output at step t, having seen x_{1:t} (the prefixes Algorithm 1 updates D
    on), and the video by the output at the last valid step.
    """
    if frame_terms == "prefix":
        steps = D(clip, lengths=lengths, steps=True, **kw)
        return steps, ops.last_step(steps, lengths)
    return losses.frame_logits(D, clip, **kw), D(clip, **kw)


def _split(logits, clips):
    """`logits` of the concatenation of `clips` back into one tensor per clip batch."""
    return tf.split(logits, [tf.shape(c)[0] for c in clips], axis=0)


def judge_together(D, clips, frame_terms, frames_of=None):
    """`judge` of several clip batches in one call of D (choice: real and
    translated inputs share a call, one batch-norm batch): a list of
    `(frames, videos)` per batch. With "single", only the batches in
    `frames_of` (indices) get frame logits, the others None."""
    if frame_terms == "prefix":
        steps, videos = judge(D, tf.concat(clips, 0), "prefix")
        return list(zip(_split(steps, clips), _split(videos, clips)))
    framed = [clips[k] for k in frames_of]
    frames = iter(_split(losses.frame_logits(D, tf.concat(framed, 0)), framed))
    return [(next(frames) if k in frames_of else None, videos)
            for k, videos in enumerate(_split(D(tf.concat(clips, 0)), clips))]


def _part(args, terms, d_frame=0.0, d_video=0.0):
    """A part's terms with its `G_loss` (eq. 10) and `D_loss`: D maximizes
    eq. (10), in which the video terms weigh λ_v."""
    return dict(terms, G_loss=losses.total(terms, args.weights), D_frame_loss=d_frame,
                D_video_loss=d_video, D_loss=d_frame + args.weights["lambda_v"] * d_video)


# (choice) The recycle and identity calls (networks on translated clips, or
# on clips of their own output domain) do not update batch-norm moving
# averages: those are for the inputs eval and translate feed.

def y_to_x(nets, batch, args):
    """Eq. (2), (8) and (6) (and G_X's identity term): G_X translates the
    domain-Y inputs Y ∪ Z, D_X judges them against X."""
    x, yz, form = batch["x"], tf.concat([batch["y"], batch["z"]], 0), args.gan_loss
    gx_yz = nets.G_X(yz)                                   # [2B, T, H, W, 3] Y, Z -> X
    (real_f, real_v), (fake_f, fake_v) = judge_together(nets.D_X, [x, gx_yz], args.frame_terms,
                                                        frames_of=(0, 1))
    adv = losses.L_g_X(real_f, fake_f, form=form)
    video = losses.L_vX(real_v, fake_v, form=form)
    back = recycle_clip(nets.G_Y, nets.P_X, gx_yz, batch["t_yz"], update_stats=False)
    terms = {"L_g_X": adv.g_loss, "L_v": video.g_loss,
             "L_rc_Y": losses.L_rc(yz, batch["t_yz"], back, args.recycle_frames)}
    if args.weights["lambda_id"]:
        terms["L_id_X"] = losses.L_id(x, nets.G_X(x, update_stats=False))
    return _part(args, terms, adv.d_loss, video.d_loss)


def x_to_y(nets, batch, args):
    """Eq. (1), (9) and (5) (and G_Y's identity term): G_Y translates X, D_Y
    judges it against Y's frames and videos, Z's videos (D_Y,1) and Z_hat's
    images (the style head); real Y clips out of time order
    (`temporal_negatives`) count as generated for D_Y,0."""
    x, y, z, form = batch["x"], batch["y"], batch["z"], args.gan_loss
    gy_x = nets.G_Y(x)                                     # [B, T, H, W, 3] X -> Y
    negatives = negatives_of(y, args)
    judged = judge_together(nets.D_Y, [y, z, gy_x] + negatives, args.frame_terms,
                            frames_of=(0, 2))              # Z: video terms only
    (real_f, real_v), (_, z_v), (fake_f, fake_v) = judged[:3]
    style = nets.D_Y(batch["z_hat"][:, None])
    adv = losses.L_g_Y(real_f, style, fake_f, form=form)
    video = losses.L_vY(real_v, z_v, fake_v, form=form)
    d_frame, d_video = adv.d_loss, video.d_loss
    if negatives:    # generated for D_Y,0, frame and video terms
        neg_f, neg_v = (tf.concat(logits, 0) for logits in zip(*judged[3:]))
        d_frame += losses.bce(neg_f[:, :, 0], 0.0, form=form)
        d_video += losses.bce(neg_v[:, 0], 0.0, form=form)
    back = recycle_clip(nets.G_X, nets.P_Y, gy_x, batch["t_x"], update_stats=False)
    terms = {"L_g_Y": adv.g_loss, "L_v": video.g_loss,
             "L_rc_X": losses.L_rc(x, batch["t_x"], back, args.recycle_frames)}
    if args.weights["lambda_id"]:
        terms["L_id_Y"] = losses.L_id(y, nets.G_Y(y, update_stats=False))  # not Z
    return _part(args, terms, d_frame, d_video)


def recurrent(nets, batch, args):
    """Eq. (3)-(4): the predictors on real clips of their domain (Y ∪ Z for P_Y)."""
    yz = tf.concat([batch["y"], batch["z"]], 0)
    return _part(args, {"L_rr_X": losses.L_rr(batch["x"], nets.P_X(batch["x"])),
                      "L_rr_Y": losses.L_rr(yz, nets.P_Y(yz))})


PARTS = (y_to_x, x_to_y, recurrent)


def pretrain_parts(nets, batch, args):
    """Eq. (10) as callables building its parts (`PARTS`) on `batch`: clips x,
    y, z `[B, T, H, W, 3]`, images z_hat `[N, H, W, 3]`, recycle steps t_x
    `[B]` and t_yz `[2B]` in 1..T-1; `args`: the `config.Flags`."""
    return [lambda part=part: part(nets, batch, args) for part in PARTS]


def pretrain_losses(nets, batch, args):
    """Eq. (10) on one batch: every term by name, `G_loss`, `D_loss` (summed over the parts)."""
    totals = {}
    for build in pretrain_parts(nets, batch, args):
        for key, value in build().items():
            totals[key] = totals[key] + value if key in totals else value
    return totals
