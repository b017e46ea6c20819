//! `tailor eval-cadence`: how well the profile predicts when a shopper orders next.
//!
//! Protocol: for every user with at least four orders, the profile sees the first three orders
//! (their dates come from the gaps between them) and predicts the days until the fourth. The
//! store's typical gap, used as the prior, is the median of all gaps seen in those first
//! three orders (never the gaps being predicted). Reported as mean absolute error in days
//! against two naive baselines: the global mean gap and the user's last gap.

use std::collections::BTreeMap;
use std::path::Path;
use tailor_core::profile::{Profile, Purchase, DAY_MS};

/// The result.
#[derive(Debug, Clone, PartialEq)]
pub struct CadenceReport {
    /// Users evaluated.
    pub users: usize,
    /// The prior: median gap in the observed orders.
    pub typical_gap_days: f64,
    /// MAE of the profile's `expected_gap_days`.
    pub mae_profile: f64,
    /// MAE of predicting the global mean gap.
    pub mae_global_mean: f64,
    /// MAE of predicting the user's last gap.
    pub mae_last_gap: f64,
}

/// Read an Instacart-style order file (`user_id`, `order_number`, `days_since_prior_order`
/// columns, one row per order line) into per-user gaps by order number.
pub fn read_orders(text: &str) -> Result<BTreeMap<String, BTreeMap<u32, Option<f64>>>, String> {
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().ok_or("empty file")?;
    let cols: Vec<&str> = header.split(',').map(|c| c.trim()).collect();
    let col = |name: &str| {
        cols.iter()
            .position(|c| *c == name)
            .ok_or(format!("line 1: header has no `{name}` column"))
    };
    let (ui, oi, di) = (
        col("user_id")?,
        col("order_number")?,
        col("days_since_prior_order")?,
    );
    let mut users: BTreeMap<String, BTreeMap<u32, Option<f64>>> = BTreeMap::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        let get = |i: usize| {
            f.get(i)
                .map(|s| s.trim())
                .ok_or(format!("line {}: too few fields", n + 1))
        };
        let user = get(ui)?.to_owned();
        let order: u32 = get(oi)?
            .parse()
            .map_err(|_| format!("line {}: order_number `{}` is not an integer", n + 1, f[oi]))?;
        let days = match get(di)? {
            "" => None,
            d => Some(d.parse::<f64>().map_err(|_| {
                format!(
                    "line {}: days_since_prior_order `{d}` is not a number",
                    n + 1
                )
            })?),
        };
        users.entry(user).or_default().insert(order, days);
    }
    Ok(users)
}

/// Run the evaluation on the file at `path`.
pub fn run(path: &Path) -> Result<CadenceReport, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let users = read_orders(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    // (gap before order 2, gap before order 3, gap before order 4)
    let rows: Vec<(f64, f64, f64)> = users
        .values()
        .filter_map(|o| Some(((*o.get(&2)?)?, (*o.get(&3)?)?, (*o.get(&4)?)?)))
        .collect();
    if rows.is_empty() {
        return Err("no user has four orders with known gaps".into());
    }
    let mut seen: Vec<f64> = rows.iter().flat_map(|r| [r.0, r.1]).collect();
    seen.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let median = if seen.len() % 2 == 1 {
        seen[seen.len() / 2]
    } else {
        (seen[seen.len() / 2 - 1] + seen[seen.len() / 2]) / 2.0
    };
    let mean = seen.iter().sum::<f64>() / seen.len() as f64;
    let (mut e_profile, mut e_mean, mut e_last) = (0.0, 0.0, 0.0);
    for &(g2, g3, target) in &rows {
        // The profile sees three purchases at the observed dates.
        let t1 = 1_600_000_000_000i64 - (1_600_000_000_000i64 % DAY_MS as i64);
        let t2 = t1 + (g2 * DAY_MS) as i64;
        let t3 = t2 + (g3 * DAY_MS) as i64;
        let mut p = Profile::default();
        for ts in [t1, t2, t3] {
            p.purchases.push(Purchase {
                ts,
                value: 0.0,
                items: Vec::new(),
                order: None,
            });
        }
        let predicted = p.expected_gap_days(median).unwrap_or(median);
        e_profile += (predicted - target).abs();
        e_mean += (mean - target).abs();
        e_last += (g3 - target).abs();
    }
    let n = rows.len() as f64;
    Ok(CadenceReport {
        users: rows.len(),
        typical_gap_days: median,
        mae_profile: e_profile / n,
        mae_global_mean: e_mean / n,
        mae_last_gap: e_last / n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_orders_and_reports_bad_fields() {
        let text =
            "order_id,user_id,order_number,days_since_prior_order\n1,u1,1,\n1,u1,1,\n2,u1,2,7.0\n";
        let users = read_orders(text).unwrap();
        assert_eq!(users["u1"][&1], None);
        assert_eq!(users["u1"][&2], Some(7.0));
        let e = read_orders("user_id,order_number,days_since_prior_order\nu,x,1\n").unwrap_err();
        assert_eq!(e, "line 2: order_number `x` is not an integer");
        assert!(read_orders("a,b\n").unwrap_err().contains("user_id"));
    }
}
