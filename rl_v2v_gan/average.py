"""The generators' weight average (choice, not in the paper; `--average_decay`).

Eval, translate, export and the held-out curve of training run an
exponential moving average of `G_X` and `G_Y` (their weights and batch-norm
statistics) over the training steps, as most GANs since Karras et al. 2018
do (Yazici et al. 2019, "The unusual effectiveness of averaging in GAN
training"): at the CPU preset's learning rate the generators' last steps
swing (docs/training.md), and the average of the recent ones is the steadier
model. After each update of the generators,

    G_avg <- beta_n G_avg + (1 - beta_n) G,   beta_n = min(beta, (1 + n) / (10 + n)),

n the count of averaged updates (the warm-up of
`tf.train.ExponentialMovingAverage(num_updates=n)`): the average spans
about the last n / 9 updates early on, and 1 / (1 - beta) updates once n
is large. Training itself never reads the average.

Variables: `average/<name>` for every variable `<name>` of G_X and G_Y, and
`average/count` (n). A checkpoint without them (written before, or with
`--average_decay 0`) is evaluated on its raw weights.
"""
from .tf_compat import tf

SCOPE = "average"
AVERAGED = ("G_X", "G_Y")


def stored_name(name):
    """The checkpoint name of the average of variable `name`."""
    return "%s/%s" % (SCOPE, name)


class Average(object):
    """Shadow copies of `variables` (a list of variables).

    `reset`: shadows <- variables, n <- 0 (fresh shadows: a new run, or a
    checkpoint without them). `update(after)`: one averaging step, run after
    the ops `after` (the generators' optimizer step). `getter`: a
    `variable_scope` custom getter that returns a variable's shadow, so a
    network built under it runs the averaged weights.
    """

    def __init__(self, variables, decay):
        if not 0.0 < decay < 1.0:
            raise ValueError("decay must be in (0, 1), got %s" % decay)
        self.decay = decay
        self.shadows = {}
        for v in variables:
            self.shadows[v.op.name] = (v, tf.get_variable(
                stored_name(v.op.name), v.shape, v.dtype.base_dtype, tf.zeros_initializer(),
                trainable=False, use_resource=True))
        self.count = tf.get_variable(stored_name("count"), [], tf.float32, tf.zeros_initializer(),
                                     trainable=False, use_resource=True)
        self.variables = [s for _, s in self.shadows.values()] + [self.count]
        self.reset = tf.group(self.count.assign(0.0),
                              *[s.assign(v) for v, s in self.shadows.values()],
                              name="reset_average")

    def update(self, after):
        """The averaging step, run after the ops `after`; returns the op."""
        with tf.control_dependencies(after):
            n = self.count.read_value()
            beta = tf.minimum(self.decay, (1.0 + n) / (10.0 + n))
            steps = [s.assign(beta * s + (1.0 - beta) * v) for v, s in self.shadows.values()]
            with tf.control_dependencies(steps):
                return self.count.assign_add(1.0).op

    def getter(self, getter, name, *args, **kwargs):
        """Custom getter: the shadow of an averaged variable, else the variable."""
        variable = getter(name, *args, **kwargs)
        pair = self.shadows.get(name)
        return pair[1] if pair is not None else variable
