"""When a synthetic-data model switches the background, and what D_Y says about it (docs/scaling.md).

    python scripts/switch_probe.py --checkpoint_dir RUN [--step N] [--clips 16]

The target style's background is blue for frames t < T/2 and red after
(paper §6.1, Fig. 1). For a checkpoint of a training run (raw weights, the
ones training updates), prints per frame:

- G_Y(x): the background's R - B (-2 blue ... +2 red) on held-out X clips, in
  inference and in training mode (batch statistics), and the switch frame;
- P_Y(G_Y(x)): Y's predictor's prediction of each frame from the translated
  frames before it (the time course a regression on real Y learned);
- D_Y,0(y) at every step of freshly drawn target-style clips whose switch is
  moved by k frames (k = 0: the true schedule): which schedules D_Y rates real;
- the gradient of G_Y's frame term (eq. 1) with respect to the background
  colour of G_Y(x), on training batches: -dL/d(R - B) > 0 pushes frame t
  towards red, < 0 towards blue. Where it reinforces a wrong colour, a
  one-frame error is a local optimum gradient descent does not leave.
"""
import argparse
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rl_v2v_gan import checkpoints, config, data, losses, objectives  # noqa: E402
from rl_v2v_gan.data import synthetic  # noqa: E402
from rl_v2v_gan.errors import UserError  # noqa: E402
from rl_v2v_gan.networks import build_networks  # noqa: E402
from rl_v2v_gan.tf_compat import tf  # noqa: E402

SHIFTS = (-2, -1, 0, 1, 2)
BORDER = 2   # rows of the frame's top edge read as its background


def red_minus_blue(clips):
    """`[N, T, H, W, 3]` in [-1, 1] => mean R - B of the top border rows, `[T]`."""
    border = clips[:, :, :BORDER].reshape(clips.shape[0], clips.shape[1], -1, 3).mean(2)
    return (border[..., 0] - border[..., 2]).mean(0)


def switch_frame(values):
    """First frame whose background is red (R - B > 0), or None."""
    red = np.flatnonzero(values > 0)
    return int(red[0]) if red.size else None


def shifted_clips(T, H, W, count, shift, seed):
    """Target-style clips (circles, blue then red) with the switch at T/2 + shift."""
    rng = np.random.RandomState(seed)
    schedule = [synthetic.BLUE if t < T // 2 + shift else synthetic.RED for t in range(T)]
    return np.stack([synthetic.render(synthetic.random_scene(rng, T, H, W), "circle",
                                      schedule, H, W) for _ in range(count)]
                    ).astype(np.float32) / 127.5 - 1.0


def row(label, values, form="%+5.1f"):
    return "%-26s %s" % (label, " ".join(form % v for v in values))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint_dir", required=True, help="a training run's folder")
    parser.add_argument("--step", type=int, help="its checkpoint of this step [the latest]")
    parser.add_argument("--data_dir", help="the dataset [the run's --data_dir]")
    parser.add_argument("--clips", type=int, default=16, help="clips per batch [16]")
    parser.add_argument("--batches", type=int, default=4, help="training batches [4]")
    a = parser.parse_args(argv)
    saved = config.load_config(a.checkpoint_dir)
    if saved is None:
        raise UserError("--checkpoint_dir %s: no config.json (not a training run)" % a.checkpoint_dir)
    if saved.get("dataset") != "synthetic":
        raise UserError("--checkpoint_dir %s: trained on %s, not the synthetic data"
                        % (a.checkpoint_dir, saved.get("dataset")))
    path = checkpoints.find(a.checkpoint_dir)
    if a.step is not None:
        path = "%s-%d" % (path.rsplit("-", 1)[0], a.step)
    args = config.parse_args(["--mode", "eval", "--dataset", "synthetic",
                              "--data_dir", a.data_dir or saved["data_dir"],
                              "--input_shape"] + [str(v) for v in saved["input_shape"]])
    T, H, W, _ = saved["input_shape"]
    dataset = data.ensure_dataset(args)
    sampler, test = (data.Sampler(dataset, seed=1, split=split) for split in ("train", "test"))

    B = a.clips
    nets = build_networks(saved["filters"], 0.0, symbols=("G_Y", "P_Y", "D_Y"), d_norm=saved["d_norm"],
                          output_filters=saved["output_filters"])
    clip = lambda: tf.placeholder(tf.float32, [B, T, H, W, 3])
    x, y, z = clip(), clip(), clip()
    z_hat = tf.placeholder(tf.float32, [B, H, W, 3])
    translated = nets.G_Y(x, is_training=False)
    translated_train = nets.G_Y(x, update_stats=False)
    predicted = nets.P_Y(translated, is_training=False)[:, :-1]   # of frames 1..T-1
    scores = nets.D_Y(y, is_training=False, steps=True)[..., 0]
    # G_Y's frame term of eq. (1) as training builds it (objectives.x_to_y).
    negatives = objectives.negatives_of(  # runs from before --shift_negatives had none
        y, types.SimpleNamespace(**dict({"shift_negatives": "off"}, **saved)))
    judged = objectives.judge_together(nets.D_Y, [y, z, translated_train] + negatives,
                                       saved["frame_terms"], frames_of=(0, 2))
    style = nets.D_Y(z_hat[:, None])
    adversarial = losses.L_g_Y(judged[0][0], style, judged[2][0], form=saved["gan_loss"])
    gradient, = tf.gradients(adversarial.g_loss, translated_train)
    variables = nets.G_Y.variables() + nets.P_Y.variables() + nets.D_Y.variables()
    saver, _ = checkpoints.restorer(path, variables, required=variables)
    with tf.Session() as session:
        checkpoints.restore(saver, session, path)
        held_out = test.clips("X", B)
        inference, training, prediction = session.run([translated, translated_train, predicted],
                                                      {x: held_out})
        print("checkpoint %s, T = %d: the target switches at frame %d" % (path, T, T // 2))
        print(row("frame", range(T), "%5d"))
        for label, out in (("G_Y(x) R-B, inference", inference), ("G_Y(x) R-B, training", training)):
            values = red_minus_blue(out)
            print(row(label, values) + "   switch at %s" % switch_frame(values))
        values = np.concatenate([[np.nan], red_minus_blue(prediction)])   # frame 0: no prediction
        print(row("P_Y(G_Y(x)_{1:t}) R-B", values) + "   switch at %s" % switch_frame(values))
        for shift in SHIFTS:
            d = session.run(scores, {y: shifted_clips(T, H, W, B, shift, seed=123)})
            print(row("D_Y,0(y), switch %+d" % shift, d.mean(0)))
        push = np.zeros(T)
        for _ in range(a.batches):
            feed = {x: sampler.clips("X", B), y: sampler.clips("Y", B), z: sampler.clips("Z", B),
                    z_hat: sampler.images(B)}
            g = session.run(gradient, feed)
            push -= red_minus_blue(g * B) / a.batches     # per clip, - dL / d(R - B)
        print(row("-dL/d(R-B) x 10^4", push * 1e4))


if __name__ == "__main__":
    try:
        main()
    except UserError as e:
        sys.exit("error: %s" % e)
