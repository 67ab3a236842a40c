//! Every number the evaluation uses, with the spec's defaults, loadable from a TOML scheme.

use crate::EvalError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Cuts of a ratio into four ordered categories (best first): `ratio ≥ cuts[0]` is the best,
/// `≥ cuts[1]` the second, `≥ cuts[2]` the third, below that the last.
pub type Cuts = [f64; 3];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatusSettings {
    /// r ≥ this: on track (进度正常).
    pub on_track: f64,
    /// r ≥ this: moderate (进度滞后).
    pub moderate: f64,
    /// r ≥ this: insufficient (严重滞后); below it: moving away.
    pub insufficient: f64,
    /// An exact (`=`) target is met within this share of |V|.
    pub exact_tolerance: f64,
    /// Worse than the baseline or the previous observation by more than this share of it:
    /// worsening (恶化).
    pub worsening_share: f64,
}

impl Default for StatusSettings {
    fn default() -> Self {
        StatusSettings {
            on_track: 0.95,
            moderate: 0.6,
            insufficient: 0.0,
            exact_tolerance: 0.02,
            worsening_share: 0.05,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MethodSettings {
    pub eurostat: Cuts,
    pub unsd2022: Cuts,
    /// UNSD 2023: [on track, fair progress]; below the second: stagnation or regression.
    pub unsd2023: [f64; 2],
    pub sdsn: Cuts,
}

impl Default for MethodSettings {
    fn default() -> Self {
        MethodSettings {
            eurostat: [0.95, 0.60, 0.0],
            unsd2022: [0.95, 0.5, -0.1],
            unsd2023: [0.95, 0.10],
            sdsn: [1.0, 0.5, 0.0],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForecastSettings {
    /// Two-sided level of the prediction interval.
    pub confidence: f64,
}

impl Default for ForecastSettings {
    fn default() -> Self {
        ForecastSettings { confidence: 0.95 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndicatorMultipliers {
    pub achieved: f64,
    pub on_track: f64,
    pub moderate: f64,
    pub insufficient: f64,
    pub moving_away: f64,
    pub missed: f64,
    pub no_data: f64,
}

impl Default for IndicatorMultipliers {
    fn default() -> Self {
        IndicatorMultipliers {
            achieved: 1.0,
            on_track: 1.0,
            moderate: 0.6,
            insufficient: 0.3,
            moving_away: 0.0,
            missed: 0.0,
            no_data: 0.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskMultipliers {
    pub completed: f64,
    pub in_progress: f64,
    pub delayed: f64,
    pub not_started: f64,
}

impl Default for TaskMultipliers {
    fn default() -> Self {
        TaskMultipliers {
            completed: 1.0,
            in_progress: 0.8,
            delayed: 0.4,
            not_started: 0.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssessmentSettings {
    pub indicator_points: f64,
    pub task_points: f64,
    pub indicator_multipliers: IndicatorMultipliers,
    pub task_multipliers: TaskMultipliers,
    /// Weight of a binding indicator by name (default 1); weights are relative.
    pub weights: BTreeMap<String, f64>,
}

impl Default for AssessmentSettings {
    fn default() -> Self {
        AssessmentSettings {
            indicator_points: 70.0,
            task_points: 30.0,
            indicator_multipliers: IndicatorMultipliers::default(),
            task_multipliers: TaskMultipliers::default(),
            weights: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlignmentSettings {
    /// Groups of indicator names that mean the same indicator; a person edits these.
    pub synonyms: Vec<Vec<String>>,
}

impl Default for AlignmentSettings {
    fn default() -> Self {
        let groups: &[&[&str]] = &[
            &["人均预期寿命", "人均期望寿命", "期望寿命", "人均寿命"],
            &["高血压患者规范管理率", "高血压规范管理率"],
            &["糖尿病患者规范管理率", "糖尿病规范管理率"],
            &[
                "每千常住人口执业（助理）医师数",
                "每千人口拥有执业（助理）医生数",
                "每千人口执业（助理）医师数",
                "每千人口拥有执业（助理）医师数",
            ],
            &[
                "每千人口拥有医疗卫生机构床位数",
                "每千人口拥有病床数",
                "每千人口医疗卫生机构床位数",
                "每千常住人口医疗卫生机构床位数",
            ],
            &[
                "每千人口拥有注册护士数",
                "每千常住人口注册护士数",
                "每千人口注册护士数",
            ],
            &["重大慢性病过早死亡率", "因重大慢性病过早死亡率"],
            &["严重精神障碍患者规范管理率", "严重精神障碍患者管理率"],
        ];
        AlignmentSettings {
            synonyms: groups
                .iter()
                .map(|g| g.iter().map(|s| s.to_string()).collect())
                .collect(),
        }
    }
}

/// All plan settings of the evaluation. `Settings::default()` is the spec's scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub status: StatusSettings,
    pub methods: MethodSettings,
    pub forecast: ForecastSettings,
    pub assessment: AssessmentSettings,
    pub alignment: AlignmentSettings,
}

impl Settings {
    /// Parses a TOML scheme; missing keys keep their defaults, unknown keys are refused.
    pub fn from_toml(text: &str) -> Result<Settings, EvalError> {
        let s: Settings = toml::from_str(text).map_err(|e| EvalError::Settings(e.to_string()))?;
        s.validate()?;
        Ok(s)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("settings always serialise")
    }

    pub fn validate(&self) -> Result<(), EvalError> {
        let bad = |m: String| Err(EvalError::Settings(m));
        let st = &self.status;
        if !(st.on_track > st.moderate && st.moderate > st.insufficient) {
            return bad(format!(
                "status: need on_track > moderate > insufficient, got {} / {} / {}",
                st.on_track, st.moderate, st.insufficient
            ));
        }
        for (name, c) in [
            ("eurostat", &self.methods.eurostat),
            ("unsd2022", &self.methods.unsd2022),
            ("sdsn", &self.methods.sdsn),
        ] {
            if !(c[0] > c[1] && c[1] > c[2]) {
                return bad(format!("methods.{name}: cuts must decrease, got {c:?}"));
            }
        }
        let u = self.methods.unsd2023;
        if u[0] <= u[1] {
            return bad(format!("methods.unsd2023: cuts must decrease, got {u:?}"));
        }
        for (k, v) in [
            ("exact_tolerance", st.exact_tolerance),
            ("worsening_share", st.worsening_share),
        ] {
            if !(0.0..1.0).contains(&v) {
                return bad(format!("status.{k} = {v} must be in [0, 1)"));
            }
        }
        let c = self.forecast.confidence;
        if !(c > 0.0 && c < 1.0) {
            return bad(format!("forecast.confidence must be in (0, 1), got {c}"));
        }
        let a = &self.assessment;
        if !(a.indicator_points >= 0.0 && a.task_points >= 0.0) {
            return bad("assessment: points must be ≥ 0".into());
        }
        let m = &a.indicator_multipliers;
        let t = &a.task_multipliers;
        for (k, v) in [
            ("achieved", m.achieved),
            ("on_track", m.on_track),
            ("moderate", m.moderate),
            ("insufficient", m.insufficient),
            ("moving_away", m.moving_away),
            ("missed", m.missed),
            ("no_data", m.no_data),
            ("completed", t.completed),
            ("in_progress", t.in_progress),
            ("delayed", t.delayed),
            ("not_started", t.not_started),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(format!("assessment multiplier {k} = {v} is outside 0–1"));
            }
        }
        for (k, w) in &a.weights {
            if !(w.is_finite() && *w > 0.0) {
                return bad(format!("assessment.weights.{k:?} = {w} must be > 0"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_spec_and_round_trip() {
        let s = Settings::default();
        assert_eq!(s.status.on_track, 0.95);
        assert_eq!(s.assessment.indicator_points, 70.0);
        assert_eq!(Settings::from_toml(&s.to_toml()).unwrap(), s);
        assert_eq!(Settings::from_toml("").unwrap(), s);
    }

    #[test]
    fn partial_scheme_keeps_other_defaults() {
        let s = Settings::from_toml(
            "[assessment]\ntask_points = 40\n[assessment.task_multipliers]\ndelayed = 0.5\n",
        )
        .unwrap();
        assert_eq!(s.assessment.task_points, 40.0);
        assert_eq!(s.assessment.task_multipliers.delayed, 0.5);
        assert_eq!(s.assessment.task_multipliers.in_progress, 0.8);
    }

    #[test]
    fn refuses_bad_schemes() {
        for bad in [
            "[status]\non_track = 0.5\nmoderate = 0.6\n",
            "[assesment]\n",
            "[assessment.indicator_multipliers]\nmoderate = 2\n",
            "[methods]\neurostat = [0.1, 0.5, 0.9]\n",
            "[forecast]\nconfidence = 1.5\n",
        ] {
            assert!(Settings::from_toml(bad).is_err(), "{bad}");
        }
    }
}
