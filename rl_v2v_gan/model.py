"""The training graph, built once per phase: the pre-training step on eq. (10)
(`objectives`) and the three session calls of an Algorithm-1 iteration
(`rl`: collect transitions; the DDPG critic and actor update; the
discriminator update with the soft target update), each as towers over the
devices with their optimizers. The training loop only feeds and fetches.

Placeholders take float32 clips in [-1, 1], `[batch, T, H, W, 3]`, with
`lengths` (`[batch]`) where a clip is a right-padded prefix.
"""
import collections
import contextlib

import numpy as np

from . import objectives, parallel, rl
from .average import AVERAGED, Average
from .networks import CRITICS, DISCRIMINATORS, POLICY, build_networks
from .optimizer import FlatAdam
from .recompute import Recompute
from .rl import DOMAINS, update_target
from .tf_compat import tf

Step = collections.namedtuple("Step", "inputs op metrics")
Step.__doc__ = "Placeholders (dict), the op to run, and scalar/vector tensors to fetch (dict)."

def variables(nets, symbols):
    return [v for s in symbols for v in getattr(nets, s).variables(trainable_only=True)]


def l2(nets, symbols):
    return tf.add_n([getattr(nets, s).regularization_loss() for s in symbols])


def learning_rate(args, step, optimizer="G"):
    """`--learning_rate`, scaled by `--lr_decay` (choice) over the run's
    `args.total_steps` (epochs x steps_per_epoch): "linear" holds it for the
    first half and falls linearly to 0 at the last step; "cosine" falls as
    (1 + cos(pi * step / total)) / 2 from the first step (Loshchilov & Hutter
    2017). `--actor_lr_scale` times that for the DDPG actor's `optimizer` "mu"."""
    rate = args.learning_rate * (args.actor_lr_scale if optimizer == "mu" else 1.0)
    if args.lr_decay == "none":
        return tf.constant(rate)
    done = tf.clip_by_value(tf.cast(step, tf.float32) / float(args.total_steps), 0.0, 1.0)
    if args.lr_decay == "cosine":
        return rate * 0.5 * (1.0 + tf.cos(np.pi * done))
    return rate * tf.clip_by_value(2.0 * (1.0 - done), 0.0, 1.0)


PHASES = ("pretrain", "rl")


class TrainGraph(object):
    """The ops of one training phase, built in the current default graph.

    phase "pretrain": `pretrain`, a gradient step on eq. (10).
    phase "rl": Algorithm 1's `collect[d]`, `ddpg[d]` and `d_update[d]` for
    d in (X, Y), the target networks with `init_targets` (hard copy) and
    `soft_update` (one op, run in the iteration's D-update call, after its
    DDPG update). Each phase builds only its own ops: the graph is large.
    Both have `global_step`, `advance` (adds 1 to it) and `epoch`.
    """

    def __init__(self, args, phase, devices=("/cpu:0",), static_batch=False):
        if phase not in PHASES:
            raise ValueError("phase must be one of %s" % (PHASES,))
        self.args, self.phase, self.devices = args, phase, list(devices)
        self.static_batch = static_batch
        spec = args.spec
        self.T, H, W, C = spec.input_shape
        self.clip_shape, self.frame_shape = [None, self.T, H, W, C], [None, H, W, C]
        self.recompute = Recompute() if args.recompute == "on" else None
        self.nets = build_networks(spec.filters, args.l2, model=spec.model,
                                   recompute=self.recompute, d_norm=args.d_norm,
                                   output_filters=spec.output_filters, precision=args.precision,
                                   d_augment=args.d_augment)
        self.global_step = tf.train.get_or_create_global_step()
        self.advance = tf.assign_add(self.global_step, 1)
        self.epoch = tf.get_variable("epoch", [], tf.int64, tf.zeros_initializer(), trainable=False)
        self.next_epoch = tf.assign_add(self.epoch, 1)
        adam = lambda k: FlatAdam(learning_rate(args, self.global_step, k), beta1=0.5,
                                  name="Adam_" + k)
        self.opt = {k: adam(k) for k in ("G", "D", "Q", "mu")}
        # X -> Y samples of the raw G_Y (`preview_raw`) and of the model eval
        # and translate run (`preview`: the average, when on).
        self.preview_input = tf.placeholder(tf.float32, self.clip_shape, name="preview_x")
        with tf.name_scope("preview"):
            self.preview_raw = self.preview = self.nets.G_Y(self.preview_input, is_training=False)
        if phase == "pretrain":
            self.pretrain = self._pretrain_step()
        else:
            self._rl_steps()
        self.average = self._average()
        if self.average is not None:
            with tf.name_scope("preview_average"), tf.variable_scope(
                    tf.get_variable_scope(), custom_getter=self.average.getter):
                self.preview = self.nets.G_Y(self.preview_input, is_training=False)

    def _average(self):
        """The generators' weight average (`average.Average`, None when off),
        updated after every step that changes them: the pre-training step and
        the DDPG actor's."""
        if not self.args.average_decay:
            return None
        average = Average(self.model_variables(AVERAGED), self.args.average_decay)
        if self.phase == "pretrain":
            self.pretrain = self.pretrain._replace(op=average.update([self.pretrain.op]))
        else:
            self.ddpg = {d: s._replace(op=average.update([s.op])) for d, s in self.ddpg.items()}
        return average

    def _rl_steps(self):
        """Algorithm 1's session calls and the target networks."""
        args, spec = self.args, self.args.spec
        self.targets = build_networks(spec.filters, prefix="target_", symbols=POLICY + CRITICS,
                                      model=spec.model, output_filters=spec.output_filters,
                                      precision=args.precision)
        self.collect = {d: self._collect_step(d) for d in DOMAINS}
        self.ddpg = {d: self._ddpg_step(d) for d in DOMAINS}
        self.d_update = {d: self._discriminator_step(d) for d in DOMAINS}
        self.target_variables, self.target_sources = self._target_pairs()
        self.init_targets = update_target(self.target_variables, self.target_sources, 1.0)
        self.soft_update = update_target(self.target_variables, self.target_sources, args.tau)

    def model_variables(self, symbols):
        """The weights and batch-norm statistics of the networks `symbols`
        (the optimizers keep theirs under their own scopes, `FlatAdam`)."""
        return [v for s in symbols for v in getattr(self.nets, s).variables()]

    # -- helpers -----------------------------------------------------------
    def _placeholders(self, **specs):
        """Placeholders by kind; with `static_batch` (the profiler's FLOP counts
        need complete shapes) their batch is --batch_size (`t_yz`: twice that)."""
        def batch(name):
            B = self.args.batch_size * (2 if name == "t_yz" else 1)
            return B if self.static_batch else None
        kinds = {"clip": (tf.float32, self.clip_shape[1:]),
                 "frame": (tf.float32, self.frame_shape[1:]),
                 "int": (tf.int32, []), "bool": (tf.bool, []), "float": (tf.float32, [])}
        return {name: tf.placeholder(kinds[kind][0], [batch(name)] + kinds[kind][1], name=name)
                for name, kind in specs.items()}

    def _train(self, name, parts, inputs, groups):
        """Towers of a step and one averaged optimizer step per `(loss_key,
        optimizer, symbols)` on the trainable variables of those networks;
        batch-norm updates of the towers run with it. `parts(inputs)` gives the
        callables building the step's losses, differentiated one after the
        other (`parallel.part_gradients`). Returns ({loss_key: optimizer step},
        metrics averaged over towers)."""
        objectives = {key: lambda symbols=symbols: variables(self.nets, symbols)
                      for key, _, symbols in groups}

        def tower(i):
            with self.recompute.chain() if self.recompute else contextlib.suppress():
                return parallel.part_gradients(parts(i), objectives)

        results = parallel.towers(tower, inputs, self.devices, name)
        stats = parallel.update_ops(name)
        ops = {key: parallel.apply(self.opt[opt], parallel.average([g[key] for _, g in results]),
                                   after=stats) for key, opt, _ in groups}
        metrics = {k: tf.add_n([m[k] for m, _ in results]) / len(results) for k in results[0][0]}
        return ops, metrics

    def _target_pairs(self):
        """Target variables and their sources, network by network (μ' with μ,
        Q' with Q), matched by their names inside the network's scope."""
        targets, sources = [], []
        for target, source in zip(self.targets, self.nets):
            if target is not None:
                t, s = target.variables_by_name(), source.variables_by_name()
                if set(t) != set(s):
                    raise ValueError("%s and %s differ: %s" % (target.name, source.name,
                                                               sorted(set(t) ^ set(s))))
                targets += [t[k] for k in sorted(t)]
                sources += [s[k] for k in sorted(t)]
        return targets, sources

    # -- pre-training on eq. (10) -----------------------------------------
    def _pretrain_parts(self, i):
        """Eq. (10)'s parts (`objectives.PARTS`) on the inputs `i`, the L2
        penalties of the generators, predictors and discriminators (§6.2)
        with the last."""
        n = self.nets
        *adversarial, recurrent = objectives.pretrain_parts(n, i, self.args)

        def penalized():
            out = recurrent()
            out["G_loss"] += l2(n, POLICY)
            out["D_loss"] += l2(n, DISCRIMINATORS)
            return out
        return adversarial + [penalized]

    def _pretrain_step(self):
        """Gradient descent on eq. (10): G, P minimize L, D maximize it (paper §5
        'pre-trained weights'; with --rl_epochs 0 the no-RL ablation)."""
        inputs = self._placeholders(x="clip", y="clip", z="clip", z_hat="frame",
                                    t_x="int", t_yz="int")
        ops, metrics = self._train("pretrain", self._pretrain_parts, inputs, [
            ("G_loss", "G", POLICY), ("D_loss", "D", DISCRIMINATORS)])
        return Step(inputs, tf.group(*ops.values()), metrics)

    # -- Algorithm 1 --------------------------------------------------------
    def _collect_step(self, d):
        """New transitions for states of domain d (Algorithm 1, inner `else`) in
        one call, split across the towers (any number of states).

        Inputs: s (clips padded to T), p (1..T-1 valid frames), greedy (bool),
        random_a (a random real frame), a_true (the real next frame).
        """
        inputs = self._placeholders(s="clip", p="int", greedy="bool", random_a="frame",
                                    a_true="frame")
        metrics = parallel.towers_any_batch(
            lambda i: rl.collect(self.nets, d, i, self.args),
            inputs, self.devices, "collect_" + d)
        return Step(inputs, None, metrics)

    def _ddpg_losses(self, d, i):
        n = self.nets
        out = rl.ddpg_losses(n, self.targets, d, i["s"], i["p"], i["a"], i["r"], self.args.gamma)
        return {"critic_loss": out["critic_td"] + l2(n, ["Q_" + d]), "critic_td": out["critic_td"],
                "actor_loss": -out["actor_objective"] + l2(n, POLICY), "q": out["q"],
                "reward": tf.reduce_mean(i["r"])}

    def _ddpg_step(self, d):
        """Critic and actor updates on a batch B̄ of domain d (Algorithm 1), one op."""
        inputs = self._placeholders(s="clip", p="int", a="frame", r="float")
        ops, metrics = self._train("ddpg_" + d, lambda i: [lambda: self._ddpg_losses(d, i)], inputs, [
            ("critic_loss", "Q", ["Q_" + d]), ("actor_loss", "mu", POLICY)])
        return Step(inputs, tf.group(*ops.values()), metrics)

    def _discriminator_losses(self, d, i):
        frame, video = rl.discriminator_losses(self.nets, d, i, self.args)
        return {"D_loss": frame + video + l2(self.nets, DISCRIMINATORS),
                "D_frame_loss": frame, "D_video_loss": video}

    def _discriminator_step(self, d):
        """Discriminator update on m real clips x_{1:t} (d = X) or y_{1:t}/z_{1:t}
        (d = Y) with random t: ∂(L - λ_v L_v)/∂D on the clips with t < T and
        ∂L_v/∂D on those with t = T, as one step (choice: Algorithm 1 applies
        them one after the other). Inputs: clips, t (1..T), style (Z clip), z_hat.
        """
        inputs = self._placeholders(clips="clip", t="int", style="bool", z_hat="frame")
        ops, metrics = self._train("d_update_" + d,
                                   lambda i: [lambda: self._discriminator_losses(d, i)], inputs,
                                   [("D_loss", "D", DISCRIMINATORS)])
        return Step(inputs, ops["D_loss"], metrics)
