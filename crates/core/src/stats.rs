//! Statistics for experiment reports: two-sided tests of a treatment arm against a control
//! arm, with 95% confidence intervals for the absolute difference and the relative lift.
//!
//! Which test for which metric (`docs/reports.md`):
//! - a mean over the randomization unit (revenue per visitor): Welch's t-test
//!   ([`welch`]), optionally after CUPED adjustment with a pre-period covariate ([`cuped`]);
//! - a proportion over the randomization unit (visitors who bought, buyers who bought again):
//!   the two-proportion z-test with the pooled standard error ([`two_proportions`]);
//! - a ratio whose denominator is not the randomization unit (sessions that convert,
//!   impressions that are clicked, revenue per order): a z-test on the ratio of sums with the
//!   delta-method variance over units ([`ratio_delta`]), so several sessions of one shopper are
//!   not counted as independent observations.
//!
//! Everything is computed in `f64` from closed forms and continued fractions; no table lookups.

use serde::{Deserialize, Serialize};

/// The significance level of every test, and 1 − the confidence of every interval.
pub const ALPHA: f64 = 0.05;

/// Count, mean and sample variance (denominator n − 1) of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Summary {
    /// Observations.
    pub n: f64,
    /// Mean.
    pub mean: f64,
    /// Sample variance (0 with fewer than two observations).
    pub var: f64,
}

impl Summary {
    /// Summarize `xs` (two passes, for accuracy). An empty sample has no mean (NaN).
    pub fn of(xs: &[f64]) -> Summary {
        let n = xs.len() as f64;
        if xs.is_empty() {
            return Summary {
                n: 0.0,
                mean: f64::NAN,
                var: f64::NAN,
            };
        }
        let mean = xs.iter().sum::<f64>() / n;
        let var = if xs.len() > 1 {
            xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Summary { n, mean, var }
    }
}

/// The natural log of the gamma function (Lanczos approximation, g = 7, nine coefficients;
/// relative error below 1e-14 for x > 0).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularized incomplete beta function I_x(a, b), by its continued fraction (modified
/// Lentz), using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges
/// faster.
pub fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - beta_inc(b, a, 1.0 - x);
    }
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut f = d;
    for m in 1..500 {
        let m = m as f64;
        // Even step.
        let num = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 + num * d;
        d = if d.abs() < TINY { 1.0 / TINY } else { 1.0 / d };
        c = 1.0 + num / c;
        if c.abs() < TINY {
            c = TINY;
        }
        f *= d * c;
        // Odd step.
        let num = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 + num * d;
        d = if d.abs() < TINY { 1.0 / TINY } else { 1.0 / d };
        c = 1.0 + num / c;
        if c.abs() < TINY {
            c = TINY;
        }
        let step = d * c;
        f *= step;
        if (step - 1.0).abs() < 1e-15 {
            break;
        }
    }
    ln_front.exp() * f / a
}

/// P(Z ≤ z) for a standard normal Z, through erfc computed from the regularized incomplete
/// gamma function (a series near 0, a continued fraction in the tails, where p-values live).
pub fn normal_cdf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    let x = z.abs() / std::f64::consts::SQRT_2;
    // erfc(x) = Q(1/2, x²), the upper regularized incomplete gamma function.
    let tail = 0.5 * gamma_q_half(x * x);
    if z < 0.0 {
        tail
    } else {
        1.0 - tail
    }
}

/// Q(1/2, y) = erfc(√y): a series for small y, a continued fraction otherwise.
fn gamma_q_half(y: f64) -> f64 {
    let a = 0.5;
    if y <= 0.0 {
        return 1.0;
    }
    let ln_front = a * y.ln() - y - ln_gamma(a);
    if y < a + 1.0 {
        // P(a, y) by its series.
        let (mut sum, mut term, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..500 {
            ap += 1.0;
            term *= y / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        return 1.0 - sum * ln_front.exp();
    }
    // Q(a, y) by its continued fraction (modified Lentz).
    const TINY: f64 = 1e-300;
    let mut b = y + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..500 {
        let i = i as f64;
        let an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    ln_front.exp() * h
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom (df may be fractional, as Welch's
/// is); the normal distribution when `df` is infinite.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    if !df.is_finite() {
        return normal_cdf(t);
    }
    let x = df / (df + t * t);
    let tail = 0.5 * beta_inc(df / 2.0, 0.5, x);
    if t > 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The `p` quantile of a continuous, increasing `cdf`, by bisection to full precision.
fn quantile(p: f64, cdf: impl Fn(f64) -> f64) -> f64 {
    let (mut lo, mut hi) = (-1e3, 1e3);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-13 {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The `p` quantile of the standard normal distribution.
pub fn normal_quantile(p: f64) -> f64 {
    quantile(p, normal_cdf)
}

/// The `p` quantile of Student's t with `df` degrees of freedom.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    quantile(p, |t| student_t_cdf(t, df))
}

/// Which test produced a [`Comparison`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Welch's unequal-variances t-test on per-unit values.
    WelchT,
    /// Welch's t-test on CUPED-adjusted per-unit values.
    CupedWelchT,
    /// Two-proportion z-test (pooled standard error for the test, unpooled for the interval).
    TwoProportionZ,
    /// z-test on a ratio of sums with the delta-method variance over units.
    DeltaRatioZ,
}

/// What a comparison says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Too little data to test (fewer than two units in an arm, or no variation at all).
    InsufficientData,
    /// The 95% interval still includes no difference.
    NotYetSignificant,
    /// Treatment is significantly higher (p < 0.05).
    Higher,
    /// Treatment is significantly lower (p < 0.05).
    Lower,
}

impl Verdict {
    /// Words for a report.
    pub fn text(self) -> &'static str {
        match self {
            Verdict::InsufficientData => "insufficient data",
            Verdict::NotYetSignificant => "not yet significant",
            Verdict::Higher => "significantly higher",
            Verdict::Lower => "significantly lower",
        }
    }
}

/// Treatment against control on one metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The test.
    pub method: Method,
    /// Units in the control arm.
    pub n_control: f64,
    /// Units in the treatment arm.
    pub n_treatment: f64,
    /// The metric in the control arm.
    pub control: f64,
    /// The metric in the treatment arm.
    pub treatment: f64,
    /// treatment − control.
    pub diff: f64,
    /// 95% interval of the difference, low end.
    pub diff_low: f64,
    /// 95% interval of the difference, high end.
    pub diff_high: f64,
    /// Relative lift, treatment / control − 1 (`None` when the control is 0).
    pub lift: Option<f64>,
    /// 95% interval of the relative lift (delta method), low end.
    pub lift_low: Option<f64>,
    /// 95% interval of the relative lift, high end.
    pub lift_high: Option<f64>,
    /// Two-sided p-value (1 when there is not enough data).
    pub p_value: f64,
    /// The verdict at [`ALPHA`].
    pub verdict: Verdict,
}

impl Comparison {
    /// Assemble a comparison from the estimates, their squared standard errors, the test
    /// statistic's p-value and the critical value of the intervals.
    #[allow(clippy::too_many_arguments)]
    fn new(
        method: Method,
        (n_control, n_treatment): (f64, f64),
        (control, treatment): (f64, f64),
        (var_control, var_treatment): (f64, f64),
        p_value: Option<f64>,
        crit: f64,
    ) -> Comparison {
        let diff = treatment - control;
        let se = (var_control + var_treatment).sqrt();
        let usable = p_value.is_some_and(|p| p.is_finite())
            && se.is_finite()
            && se > 0.0
            && n_control >= 2.0
            && n_treatment >= 2.0;
        let p_value = if usable { p_value.unwrap_or(1.0) } else { 1.0 };
        let (lift, lift_low, lift_high) = if control != 0.0 && usable {
            let lift = treatment / control - 1.0;
            // Var(T/C) ≈ Var(T)/C² + T²·Var(C)/C⁴ for independent arms.
            let se_lift = (var_treatment / (control * control)
                + treatment * treatment * var_control / control.powi(4))
            .sqrt();
            (
                Some(lift),
                Some(lift - crit * se_lift),
                Some(lift + crit * se_lift),
            )
        } else if control != 0.0 {
            (Some(treatment / control - 1.0), None, None)
        } else {
            (None, None, None)
        };
        let verdict = if !usable {
            Verdict::InsufficientData
        } else if p_value >= ALPHA {
            Verdict::NotYetSignificant
        } else if diff > 0.0 {
            Verdict::Higher
        } else {
            Verdict::Lower
        };
        let half = if usable { crit * se } else { f64::NAN };
        Comparison {
            method,
            n_control,
            n_treatment,
            control,
            treatment,
            diff,
            diff_low: diff - half,
            diff_high: diff + half,
            lift,
            lift_low,
            lift_high,
            p_value,
            verdict,
        }
    }

    /// Whether the 95% interval of the relative lift contains `lift`.
    pub fn lift_interval_contains(&self, lift: f64) -> bool {
        matches!((self.lift_low, self.lift_high), (Some(lo), Some(hi)) if lo <= lift && lift <= hi)
    }
}

/// Welch's t-test of treatment against control on per-unit values: t = (m_t − m_c) / SE with
/// SE² = s_t²/n_t + s_c²/n_c and the Welch–Satterthwaite degrees of freedom; the interval uses
/// the t quantile at those degrees of freedom.
pub fn welch(control: &Summary, treatment: &Summary) -> Comparison {
    welch_as(Method::WelchT, control, treatment)
}

fn welch_as(method: Method, c: &Summary, t: &Summary) -> Comparison {
    let (vc, vt) = if c.n > 0.0 && t.n > 0.0 {
        (c.var / c.n, t.var / t.n)
    } else {
        (f64::NAN, f64::NAN)
    };
    let se2 = vc + vt;
    let df = se2 * se2 / (vc * vc / (c.n - 1.0) + vt * vt / (t.n - 1.0));
    let (p, crit) = if se2 > 0.0 && df.is_finite() && df > 0.0 {
        let stat = (t.mean - c.mean) / se2.sqrt();
        (
            Some(2.0 * student_t_cdf(-stat.abs(), df)),
            student_t_quantile(1.0 - ALPHA / 2.0, df),
        )
    } else {
        (None, f64::NAN)
    };
    Comparison::new(method, (c.n, t.n), (c.mean, t.mean), (vc, vt), p, crit)
}

/// The two-proportion z-test: `x` successes out of `n` in each arm. The test statistic uses
/// the pooled proportion (the textbook test of H0: p_c = p_t); the interval uses the unpooled
/// (Wald) standard error.
pub fn two_proportions(
    x_control: f64,
    n_control: f64,
    x_treatment: f64,
    n_treatment: f64,
) -> Comparison {
    let (pc, pt) = (x_control / n_control, x_treatment / n_treatment);
    let pooled = (x_control + x_treatment) / (n_control + n_treatment);
    let se0 = (pooled * (1.0 - pooled) * (1.0 / n_control + 1.0 / n_treatment)).sqrt();
    let p = (se0 > 0.0).then(|| 2.0 * normal_cdf(-((pt - pc) / se0).abs()));
    let vc = pc * (1.0 - pc) / n_control;
    let vt = pt * (1.0 - pt) / n_treatment;
    let crit = normal_quantile(1.0 - ALPHA / 2.0);
    Comparison::new(
        Method::TwoProportionZ,
        (n_control, n_treatment),
        (pc, pt),
        (vc, vt),
        p,
        crit,
    )
}

/// The ratio Σy / Σx of an arm's units `(y, x)` and the delta-method variance of that ratio:
/// Var(R) ≈ (s_y² − 2R·s_xy + R²·s_x²) / (n · x̄²).
fn ratio_and_variance(units: &[(f64, f64)]) -> (f64, f64) {
    let n = units.len() as f64;
    if units.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let my = units.iter().map(|u| u.0).sum::<f64>() / n;
    let mx = units.iter().map(|u| u.1).sum::<f64>() / n;
    if mx == 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let r = my / mx;
    if units.len() < 2 {
        return (r, f64::NAN);
    }
    let (mut syy, mut sxx, mut sxy) = (0.0, 0.0, 0.0);
    for &(y, x) in units {
        syy += (y - my) * (y - my);
        sxx += (x - mx) * (x - mx);
        sxy += (y - my) * (x - mx);
    }
    let (syy, sxx, sxy) = (syy / (n - 1.0), sxx / (n - 1.0), sxy / (n - 1.0));
    let var = (syy - 2.0 * r * sxy + r * r * sxx) / (n * mx * mx);
    (r, var.max(0.0))
}

/// A z-test of the ratio metric Σy/Σx between arms, each unit (shopper) giving `(y, x)`:
/// sessions with an order over sessions, clicks over impressions, revenue over orders. The
/// delta-method variance treats the unit, not the session or impression, as independent.
pub fn ratio_delta(control: &[(f64, f64)], treatment: &[(f64, f64)]) -> Comparison {
    let (rc, vc) = ratio_and_variance(control);
    let (rt, vt) = ratio_and_variance(treatment);
    let se = (vc + vt).sqrt();
    let p = (se > 0.0 && se.is_finite()).then(|| 2.0 * normal_cdf(-((rt - rc) / se).abs()));
    Comparison::new(
        Method::DeltaRatioZ,
        (control.len() as f64, treatment.len() as f64),
        (rc, rt),
        (vc, vt),
        p,
        normal_quantile(1.0 - ALPHA / 2.0),
    )
}

/// A CUPED-adjusted comparison and what the adjustment did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cuped {
    /// The comparison on adjusted values (means are unchanged in expectation).
    pub comparison: Comparison,
    /// θ = Cov(Y, X) / Var(X), over both arms together.
    pub theta: f64,
    /// 1 − Var(Y − θX) / Var(Y): the share of variance removed.
    pub variance_reduction: f64,
}

/// CUPED (Deng, Xu, Kohavi and Walker, WSDM 2013): each unit's metric `y` is adjusted with a
/// covariate `x` measured before the experiment could affect it (pre-period spend):
/// y' = y − θ(x − x̄), θ = Cov(Y, X) / Var(X) over both arms pooled, then Welch's t-test on y'.
/// Because x is fixed before assignment, the adjustment removes variance without bias.
pub fn cuped(control: &[(f64, f64)], treatment: &[(f64, f64)]) -> Cuped {
    let all: Vec<(f64, f64)> = control.iter().chain(treatment).copied().collect();
    let n = all.len() as f64;
    let (my, mx) = if all.is_empty() {
        (0.0, 0.0)
    } else {
        (
            all.iter().map(|u| u.0).sum::<f64>() / n,
            all.iter().map(|u| u.1).sum::<f64>() / n,
        )
    };
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for &(y, x) in &all {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
        syy += (y - my) * (y - my);
    }
    let theta = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let adjust = |units: &[(f64, f64)]| -> Vec<f64> {
        units.iter().map(|&(y, x)| y - theta * (x - mx)).collect()
    };
    let (ac, at) = (adjust(control), adjust(treatment));
    let adjusted_ss: f64 = ac
        .iter()
        .chain(&at)
        .map(|v| (v - my) * (v - my))
        .sum::<f64>();
    let variance_reduction = if syy > 0.0 {
        1.0 - adjusted_ss / syy
    } else {
        0.0
    };
    Cuped {
        comparison: welch_as(Method::CupedWelchT, &Summary::of(&ac), &Summary::of(&at)),
        theta,
        variance_reduction,
    }
}

/// Pearson's chi-square goodness-of-fit test of an observed two-way split against the
/// expected share of the second group (a sample ratio mismatch check); the p-value.
pub fn split_p_value(first: f64, second: f64, expected_second_share: f64) -> f64 {
    let n = first + second;
    if n <= 0.0 || !(expected_second_share > 0.0 && expected_second_share < 1.0) {
        return 1.0;
    }
    let e2 = n * expected_second_share;
    let e1 = n - e2;
    let chi2 = (first - e1).powi(2) / e1 + (second - e2).powi(2) / e2;
    // One degree of freedom: P(χ²₁ > c) = 2·(1 − Φ(√c)).
    2.0 * normal_cdf(-chi2.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn distributions_match_the_tables() {
        // Standard normal table: Φ(0) = 0.5, Φ(1) = 0.841345, Φ(1.96) = 0.975002, Φ(−2.576) =
        // 0.004997; the 0.975 quantile is 1.959964.
        assert!(close(normal_cdf(0.0), 0.5, 1e-15));
        assert!(close(normal_cdf(1.0), 0.841_344_746, 1e-9));
        assert!(close(normal_cdf(1.96), 0.975_002_105, 1e-9));
        assert!(close(normal_cdf(-2.576), 0.004_997_532, 1e-9));
        assert!(close(normal_cdf(-8.0), 6.220_960_574e-16, 1e-24));
        assert!(close(normal_quantile(0.975), 1.959_963_985, 1e-8));
        // Student's t, two-sided 5% critical values from the t table.
        for (df, t) in [
            (1.0, 12.706),
            (2.0, 4.303),
            (5.0, 2.571),
            (10.0, 2.228),
            (30.0, 2.042),
            (120.0, 1.980),
        ] {
            let q = student_t_quantile(0.975, df);
            assert!(close(q, t, 5e-4), "df {df}: {q}");
        }
        assert!(close(student_t_cdf(2.228, 10.0), 0.974_994_114, 1e-8));
        assert!(close(student_t_cdf(0.0, 3.5), 0.5, 1e-15));
        // I_x(a, b) for integer a, b is a binomial tail: I_0.5(2, 3) = 11/16.
        assert!(close(beta_inc(2.0, 3.0, 0.5), 11.0 / 16.0, 1e-14));
        assert!(close(beta_inc(3.0, 2.0, 0.5), 5.0 / 16.0, 1e-14));
        // Γ(5) = 24, Γ(1/2) = √π.
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-13));
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-13
        ));
    }

    #[test]
    fn welch_matches_the_textbook_example() {
        // The first worked example of Welch's t-test on Wikipedia ("Welch's t-test", Examples):
        // t = −2.46, ν = 24.99, p = 0.021. Values to more digits from mpmath:
        // t = −2.455356398, ν = 24.988529290, p = 0.021378001.
        let a1 = [
            27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7,
            21.4,
        ];
        let a2 = [
            27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5,
            24.4,
        ];
        // Control a2, treatment a1: the difference is a1 − a2.
        let c = welch(&Summary::of(&a2), &Summary::of(&a1));
        assert_eq!(c.method, Method::WelchT);
        assert!(close(c.diff, 20.82 - 22.986_666_667, 1e-8), "{c:?}");
        assert!(close(c.p_value, 0.021_378_001, 1e-8), "{c:?}");
        assert_eq!(c.verdict, Verdict::Lower);
        // The interval is diff ± t(0.975, ν)·SE, SE = |diff| / 2.455356398.
        let se = c.diff.abs() / 2.455_356_398;
        let crit = student_t_quantile(0.975, 24.988_529_290);
        assert!(close(c.diff_high, c.diff + crit * se, 1e-7), "{c:?}");
        assert!(c.diff_high < 0.0);
    }

    #[test]
    fn two_proportions_matches_the_formula() {
        // 120/1000 against 150/1000: pooled p = 0.135, z = 0.03 / √(0.135·0.865·0.002) =
        // 1.963049808, p = 0.049640387 (mpmath).
        let c = two_proportions(120.0, 1000.0, 150.0, 1000.0);
        assert!(close(c.p_value, 0.049_640_387, 1e-8), "{c:?}");
        assert_eq!(c.verdict, Verdict::Higher);
        assert!(close(c.lift.unwrap(), 0.25, 1e-12));
        // Wald interval: 0.03 ± 1.959964·√(0.12·0.88/1000 + 0.15·0.85/1000).
        let half = 1.959_963_985 * (0.12f64 * 0.88 / 1000.0 + 0.15 * 0.85 / 1000.0).sqrt();
        assert!(close(c.diff_low, 0.03 - half, 1e-8), "{c:?}");
        // Equal rates: p = 1, not significant; no conversions at all: insufficient data.
        let same = two_proportions(50.0, 500.0, 50.0, 500.0);
        assert!(close(same.p_value, 1.0, 1e-12));
        assert_eq!(same.verdict, Verdict::NotYetSignificant);
        assert_eq!(
            two_proportions(0.0, 500.0, 0.0, 500.0).verdict,
            Verdict::InsufficientData
        );
        assert_eq!(
            two_proportions(0.0, 1.0, 1.0, 1.0).verdict,
            Verdict::InsufficientData
        );
    }

    #[test]
    fn the_delta_method_reduces_to_the_mean_when_every_denominator_is_one() {
        let c: Vec<(f64, f64)> = (0..50).map(|i| ((i % 7) as f64, 1.0)).collect();
        let t: Vec<(f64, f64)> = (0..60).map(|i| ((i % 5) as f64 * 1.5, 1.0)).collect();
        let r = ratio_delta(&c, &t);
        let ys = |u: &[(f64, f64)]| u.iter().map(|u| u.0).collect::<Vec<_>>();
        let w = welch(&Summary::of(&ys(&c)), &Summary::of(&ys(&t)));
        assert!(close(r.diff, w.diff, 1e-12));
        // Same standard error; only the reference distribution differs (normal against t).
        let se_r = (r.diff_high - r.diff) / 1.959_963_985;
        let se_w = (w.diff_high - w.diff) / student_t_quantile(0.975, 100.0).max(1.0);
        assert!(close(se_r, se_w, 0.02 * se_w), "{se_r} {se_w}");
        assert_eq!(r.method, Method::DeltaRatioZ);
    }

    #[test]
    fn the_delta_method_counts_clustered_sessions_once() {
        // Every shopper has 10 sessions that all convert or all do not: the effective sample
        // is the shoppers, so the interval must be as wide as a proportion test over shoppers,
        // not over sessions.
        let arm = |buyers: usize, n: usize| -> Vec<(f64, f64)> {
            (0..n)
                .map(|i| (if i < buyers { 10.0 } else { 0.0 }, 10.0))
                .collect()
        };
        let r = ratio_delta(&arm(30, 100), &arm(40, 100));
        let by_shopper = two_proportions(30.0, 100.0, 40.0, 100.0);
        let by_session = two_proportions(300.0, 1000.0, 400.0, 1000.0);
        let width = |c: &Comparison| c.diff_high - c.diff_low;
        assert!(close(
            width(&r),
            width(&by_shopper),
            0.01 * width(&by_shopper)
        ));
        assert!(width(&r) > 3.0 * width(&by_session));
    }

    #[test]
    fn cuped_removes_the_variance_the_covariate_explains() {
        // y = 2x + small noise: θ = 2 and nearly all variance goes.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut arm = |shift: f64| -> Vec<(f64, f64)> {
            (0..400)
                .map(|_| {
                    let x = next() * 100.0;
                    (2.0 * x + next() - 0.5 + shift, x)
                })
                .collect()
        };
        let (c, t) = (arm(0.0), arm(1.0));
        let out = cuped(&c, &t);
        assert!(close(out.theta, 2.0, 0.01), "{}", out.theta);
        assert!(out.variance_reduction > 0.99, "{}", out.variance_reduction);
        let plain = welch(
            &Summary::of(&c.iter().map(|u| u.0).collect::<Vec<_>>()),
            &Summary::of(&t.iter().map(|u| u.0).collect::<Vec<_>>()),
        );
        // The shift of 1 is invisible without the covariate and clear with it.
        assert_eq!(plain.verdict, Verdict::NotYetSignificant, "{plain:?}");
        assert_eq!(out.comparison.verdict, Verdict::Higher);
        assert!(out.comparison.diff_low < 1.0 && 1.0 < out.comparison.diff_high);
        assert_eq!(out.comparison.method, Method::CupedWelchT);
        // A covariate that explains nothing leaves θ near 0.
        let flat: Vec<(f64, f64)> = c.iter().map(|u| (u.0, 5.0)).collect();
        assert_eq!(cuped(&flat, &flat).theta, 0.0);
    }

    #[test]
    fn sample_ratio_mismatch() {
        // 5000 / 5000 against an even split: no evidence; 4800 / 5200: χ² = 16, p = 6.3e-5.
        assert!(close(split_p_value(5000.0, 5000.0, 0.5), 1.0, 1e-12));
        assert!(close(
            split_p_value(4800.0, 5200.0, 0.5),
            6.334_248e-5,
            1e-9
        ));
        assert_eq!(split_p_value(0.0, 0.0, 0.5), 1.0);
    }

    #[test]
    fn lift_interval() {
        let c = two_proportions(300.0, 1000.0, 330.0, 1000.0);
        assert!(close(c.lift.unwrap(), 0.1, 1e-12));
        assert!(c.lift_interval_contains(0.1));
        assert!(!c.lift_interval_contains(5.0));
        assert_eq!(c.verdict.text(), "not yet significant");
    }
}
