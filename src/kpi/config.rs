//! What a KPI pass measures: period, anchors, thresholds, business hours.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use super::KpiError;
use super::period::{BusinessHours, CivilDate, OpenInterval, Period, Weekday};
use crate::codec::{Reader, Writer};
use crate::time::Millis;

/// Most service-level thresholds one config may ask for.
pub const MAX_SERVICE_LEVEL_THRESHOLDS: usize = 16;

/// Which timestamp decides whether a record falls in the [`KpiConfig::period`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum PeriodAnchor {
    /// Every metric of a record counts iff `asked_at ∈ period`. Default: one population, so
    /// every number of a report describes the same requests.
    #[default]
    AskedAt,
    /// One anchor per KPI, as dashboards that count work when it is done do: demand KPIs (offered, answered,
    /// abandoned, messages left, wait, first response, service level, rates, tags, transfers,
    /// missed offers) by `asked_at`; output KPIs (handled, handle time, the operator table,
    /// satisfaction) by `resolved_at`.
    PerKpi,
}

/// Configuration of a KPI pass. Build with [`KpiConfig::default`] and adjust; checked by
/// [`KpiConfig::validate`] (called by [`KpiAccumulator::new`](super::KpiAccumulator::new)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(default))]
pub struct KpiConfig {
    /// Only records inside this half-open range count (see [`PeriodAnchor`]); occupancy
    /// intervals are clipped to it. Default: `None` (all records).
    pub period: Option<Period>,
    /// Which timestamp places a record in the period. Default: [`PeriodAnchor::AskedAt`].
    pub anchor: PeriodAnchor,
    /// Service-level thresholds T ("answered within T" means wait ≤ T). 1 to 16, strictly
    /// increasing. Default: `[20 s]`.
    pub service_level_thresholds: Vec<Millis>,
    /// Short-abandon threshold S: an abandonment with `abandoned_at − asked_at ≤ S` is short and
    /// leaves the variant-D abandonment rates and the short-abandon service level. Default:
    /// `None` (short abandons are kept, as Gitple, Amazon Connect and Asterisk do).
    pub short_abandon: Option<Millis>,
    /// When set, first response time is also measured counting only open time. Default: `None`.
    pub business_hours: Option<BusinessHours>,
}

impl Default for KpiConfig {
    fn default() -> Self {
        KpiConfig {
            period: None,
            anchor: PeriodAnchor::AskedAt,
            service_level_thresholds: vec![Millis::from_secs(20)],
            short_abandon: None,
            business_hours: None,
        }
    }
}

impl KpiConfig {
    /// Checks the config.
    ///
    /// # Errors
    /// [`KpiError::InvalidConfig`] (field `service_level_thresholds`) when there are none, more
    /// than [`MAX_SERVICE_LEVEL_THRESHOLDS`] or they are not strictly increasing;
    /// [`KpiError::InvalidPeriod`] when the period ends before it starts.
    pub fn validate(&self) -> Result<(), KpiError> {
        let t = &self.service_level_thresholds;
        if t.is_empty() || t.len() > MAX_SERVICE_LEVEL_THRESHOLDS {
            return Err(KpiError::InvalidConfig {
                field: "service_level_thresholds",
                reason: "give between 1 and 16 thresholds",
            });
        }
        if t.windows(2).any(|w| w[0] >= w[1]) {
            return Err(KpiError::InvalidConfig {
                field: "service_level_thresholds",
                reason: "thresholds must be strictly increasing",
            });
        }
        if let Some(p) = self.period {
            Period::new(p.start, p.end)?;
        }
        Ok(())
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        match self.period {
            None => w.u8(0),
            Some(p) => {
                w.u8(1);
                w.u64(p.start.0);
                w.u64(p.end.0);
            }
        }
        w.u8(match self.anchor {
            PeriodAnchor::AskedAt => 0,
            PeriodAnchor::PerKpi => 1,
        });
        w.len(self.service_level_thresholds.len());
        for t in &self.service_level_thresholds {
            w.u64(t.0);
        }
        match self.short_abandon {
            None => w.u8(0),
            Some(s) => {
                w.u8(1);
                w.u64(s.0);
            }
        }
        match &self.business_hours {
            None => w.u8(0),
            Some(bh) => {
                w.u8(1);
                w.i32(bh.utc_offset_minutes());
                w.len(bh.open_intervals().len());
                for iv in bh.open_intervals() {
                    w.u8(iv.weekday.index());
                    w.u16(iv.start_minute);
                    w.u16(iv.end_minute);
                }
                w.len(bh.closed_dates().len());
                for d in bh.closed_dates() {
                    w.i32(d.year);
                    w.u8(d.month);
                    w.u8(d.day);
                }
            }
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, KpiError> {
        let period = match r.u8()? {
            0 => None,
            1 => {
                let s = r.u64()?;
                let e = r.u64()?;
                Some(
                    Period::new(crate::time::Timestamp(s), crate::time::Timestamp(e))
                        .map_err(|_| r.invalid("period ends before it starts"))?,
                )
            }
            _ => return Err(r.invalid("bad period flag").into()),
        };
        let anchor = match r.u8()? {
            0 => PeriodAnchor::AskedAt,
            1 => PeriodAnchor::PerKpi,
            _ => return Err(r.invalid("unknown period anchor").into()),
        };
        let n = r.len(8)?;
        let mut service_level_thresholds = Vec::with_capacity(n);
        for _ in 0..n {
            service_level_thresholds.push(Millis(r.u64()?));
        }
        let short_abandon = match r.u8()? {
            0 => None,
            1 => Some(Millis(r.u64()?)),
            _ => return Err(r.invalid("bad short-abandon flag").into()),
        };
        let business_hours = match r.u8()? {
            0 => None,
            1 => {
                let off = r.i32()?;
                let n = r.len(5)?;
                let mut open = Vec::with_capacity(n);
                for _ in 0..n {
                    let wd =
                        Weekday::from_index(r.u8()?).ok_or_else(|| r.invalid("bad weekday"))?;
                    let start_minute = r.u16()?;
                    let end_minute = r.u16()?;
                    open.push(OpenInterval {
                        weekday: wd,
                        start_minute,
                        end_minute,
                    });
                }
                let n = r.len(6)?;
                let mut closed = Vec::with_capacity(n);
                for _ in 0..n {
                    let year = r.i32()?;
                    let month = r.u8()?;
                    let day = r.u8()?;
                    closed.push(CivilDate { year, month, day });
                }
                let bh = BusinessHours::new(off, open.clone(), closed.clone())
                    .map_err(|_| r.invalid("invalid business hours"))?;
                // Canonical form only: sorted, deduplicated.
                if bh.open_intervals() != open.as_slice() || bh.closed_dates() != closed.as_slice()
                {
                    return Err(r.invalid("business hours not in canonical order").into());
                }
                Some(bh)
            }
            _ => return Err(r.invalid("bad business-hours flag").into()),
        };
        let c = KpiConfig {
            period,
            anchor,
            service_level_thresholds,
            short_abandon,
            business_hours,
        };
        c.validate().map_err(|_| r.invalid("invalid config"))?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_checked() {
        let mut c = KpiConfig::default();
        assert_eq!(c.validate(), Ok(()));
        c.service_level_thresholds = vec![Millis(5), Millis(5)];
        assert!(matches!(
            c.validate(),
            Err(KpiError::InvalidConfig {
                field: "service_level_thresholds",
                ..
            })
        ));
        c.service_level_thresholds.clear();
        assert!(c.validate().is_err());
    }
}
