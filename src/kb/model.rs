//! A multinomial logistic regression over sparse TF-IDF vectors, trained by SGD.
//!
//! Why this model: on the evaluation data a linear model over word and character n-grams is as
//! accurate as anything that trains in a few seconds on one core, and its softmax probability
//! is a usable signal of doubt (an out-of-scope question spreads its probability over many
//! intents). Training is plain stochastic gradient descent with a decaying step and L2
//! weight decay, a fixed seed, and a fixed number of passes, so the same knowledge base always
//! gives the same model.
//!
//! Weights are stored feature-major (`w[feature * classes + class]`): a message touches a few
//! hundred features, and for each of them every class weight is contiguous, which the compiler
//! vectorises.

use super::features::SparseVec;

/// Training settings, chosen on the validation splits of the evaluation data (README).
#[derive(Debug, Clone, Copy)]
pub struct TrainConfig {
    pub epochs: usize,
    /// Initial step size; it decays linearly to a tenth of this over training.
    pub learning_rate: f32,
    /// L2 penalty per example and step (the `1/(C n)` of scikit-learn, folded per step).
    pub l2: f32,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 12,
            learning_rate: 0.8,
            l2: 1e-6,
            seed: 0x00be_ac0e,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Softmax {
    classes: usize,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl Softmax {
    /// Trains on `(index into xs, class)` pairs. `classes` is the number of classes; every
    /// class must be below it.
    pub fn train(
        dim: usize,
        classes: usize,
        xs: &[SparseVec],
        data: &[(usize, usize)],
        cfg: TrainConfig,
    ) -> Self {
        let mut m = Softmax {
            classes,
            weights: vec![0.0; dim * classes],
            bias: vec![0.0; classes],
        };
        if classes == 0 || data.is_empty() {
            return m;
        }
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut rng = fastrand::Rng::with_seed(cfg.seed);
        let mut probs = vec![0.0f32; classes];
        #[expect(clippy::cast_precision_loss, reason = "step counts are far below 2^24")]
        let total_steps = (cfg.epochs * data.len()) as f32;
        let mut step = 0.0f32;
        // Weight decay is applied as a running scale on all weights (w = scale * v) so that a
        // step costs only the features it touches, not the whole matrix.
        let mut scale = 1.0f32;
        for _ in 0..cfg.epochs {
            rng.shuffle(&mut order);
            for &i in &order {
                let (x, y) = (&xs[data[i].0], data[i].1);
                let lr = cfg.learning_rate * (1.0 - 0.9 * step / total_steps);
                step += 1.0;
                m.logits_scaled(x, scale, &mut probs);
                softmax_in_place(&mut probs);
                probs[y] -= 1.0;
                scale *= 1.0 - lr * cfg.l2;
                let g_scale = lr / scale;
                for (&f, &v) in x.idx.iter().zip(&x.val) {
                    let row = &mut m.weights[f as usize * classes..(f as usize + 1) * classes];
                    let a = g_scale * v;
                    for (w, g) in row.iter_mut().zip(&probs) {
                        *w -= a * g;
                    }
                }
                for (b, g) in m.bias.iter_mut().zip(&probs) {
                    *b -= lr * g;
                }
                if scale < 1e-3 {
                    m.weights.iter_mut().for_each(|w| *w *= scale);
                    scale = 1.0;
                }
            }
        }
        if scale != 1.0 {
            m.weights.iter_mut().for_each(|w| *w *= scale);
        }
        m
    }

    fn logits_scaled(&self, x: &SparseVec, scale: f32, out: &mut [f32]) {
        out.copy_from_slice(&self.bias);
        let c = self.classes;
        for (&f, &v) in x.idx.iter().zip(&x.val) {
            let row = &self.weights[f as usize * c..(f as usize + 1) * c];
            let a = scale * v;
            for (o, w) in out.iter_mut().zip(row) {
                *o += a * w;
            }
        }
    }

    /// Class probabilities for one vector.
    pub fn predict(&self, x: &SparseVec) -> Vec<f32> {
        let mut p = vec![0.0; self.classes];
        if self.classes > 0 {
            self.logits_scaled(x, 1.0, &mut p);
            softmax_in_place(&mut p);
        }
        p
    }

    pub fn classes(&self) -> usize {
        self.classes
    }
}

fn softmax_in_place(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(pairs: &[(u32, f32)]) -> SparseVec {
        SparseVec {
            idx: pairs.iter().map(|p| p.0).collect(),
            val: pairs.iter().map(|p| p.1).collect(),
        }
    }

    fn train(dim: usize, classes: usize, data: &[(SparseVec, usize)]) -> Softmax {
        let xs: Vec<SparseVec> = data.iter().map(|d| d.0.clone()).collect();
        let ids: Vec<(usize, usize)> = data.iter().enumerate().map(|(i, d)| (i, d.1)).collect();
        Softmax::train(dim, classes, &xs, &ids, TrainConfig::default())
    }

    #[test]
    fn learns_a_separable_problem_and_gives_probabilities() {
        let data = vec![
            (v(&[(0, 1.0)]), 0),
            (v(&[(0, 0.8), (2, 0.6)]), 0),
            (v(&[(1, 1.0)]), 1),
            (v(&[(1, 0.8), (2, 0.6)]), 1),
        ];
        let m = train(3, 2, &data);
        let p0 = m.predict(&v(&[(0, 1.0)]));
        let p1 = m.predict(&v(&[(1, 1.0)]));
        assert!(p0[0] > 0.8 && p1[1] > 0.8, "{p0:?} {p1:?}");
        assert!((p0.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        // A feature seen equally in both classes says nothing.
        let amb = m.predict(&v(&[(2, 1.0)]));
        assert!((amb[0] - amb[1]).abs() < 0.2, "{amb:?}");
    }

    #[test]
    fn training_is_reproducible() {
        let data = vec![
            (v(&[(0, 1.0)]), 0),
            (v(&[(1, 1.0)]), 1),
            (v(&[(0, 0.5), (1, 0.5)]), 1),
        ];
        let a = train(2, 2, &data);
        let b = train(2, 2, &data);
        assert_eq!(a.weights, b.weights);
    }

    #[test]
    fn an_empty_model_predicts_nothing_without_panicking() {
        let m = train(0, 0, &[]);
        assert!(m.predict(&SparseVec::default()).is_empty());
    }
}
