//! A planner's decisions on the indicators the importer proposed from prose targets: accept,
//! accept with edits, merge into an indicator the plan has, or reject. Each decision is a plan
//! edit through [`crate::App::edit_plan`] (one audited, versioned write), and the proposal
//! keeps its decision, so the audit trail and the plan both say what was chosen.

use crate::{AppError, Result};
use healthplan_core::{Decision, Indicator, PlanDocument, Source};
use healthplan_store::StoreError;

/// What a planner chose for one proposal.
#[derive(Debug, Clone)]
pub enum Choice {
    Accept,
    /// Accept the planner's version of the indicator instead.
    Edit(Box<Indicator>),
    /// Add the targets to the plan's indicator at this index (years it lacks).
    Merge(usize),
    Reject,
}

impl Choice {
    fn decision(&self) -> Decision {
        match self {
            Choice::Accept => Decision::Accepted,
            Choice::Edit(_) => Decision::Edited,
            Choice::Merge(_) => Decision::Merged,
            Choice::Reject => Decision::Rejected,
        }
    }
}

/// Applies a choice to proposal `index`; returns the index of the indicator that now monitors
/// the proposal's statements (none when rejected).
pub fn decide(doc: &mut PlanDocument, index: usize, choice: Choice) -> Result<Option<usize>> {
    let proposal = doc
        .proposals
        .get(index)
        .cloned()
        .ok_or(StoreError::NotFound {
            entity: "proposal",
            key: index.to_string(),
        })?;
    if let Some(d) = proposal.decision {
        return Err(StoreError::Workflow {
            key: format!("proposal {index}"),
            from: decision_name(d),
            to: decision_name(choice.decision()),
        }
        .into());
    }
    let statements = proposal.statements;
    let decision = choice.decision();
    let into = match choice {
        Choice::Reject => None,
        Choice::Accept | Choice::Edit(_) => {
            let mut ind = match choice {
                Choice::Edit(ind) => *ind,
                _ => proposal.indicator,
            };
            ind.source = Source::Statement;
            // A person has looked at it: the importer's doubts are settled.
            ind.doubts.clear();
            ind.validate("indicator")?;
            doc.indicators.push(ind);
            Some(doc.indicators.len() - 1)
        }
        Choice::Merge(into) => {
            let targets = proposal.indicator.targets;
            let count = doc.indicators.len();
            let ind = doc.indicators.get_mut(into).ok_or_else(|| {
                AppError::Input(format!(
                    "indicator {into} does not exist; the plan has {count} indicators"
                ))
            })?;
            for t in targets {
                if !ind.targets.iter().any(|x| x.year == t.year) {
                    ind.targets.push(t);
                }
            }
            ind.targets.sort_by_key(|t| t.year);
            Some(into)
        }
    };
    for k in statements {
        if let Some(s) = doc.target_statements.get_mut(k) {
            s.indicator = into;
        }
    }
    doc.proposals[index].decision = Some(decision);
    doc.validate()?;
    Ok(into)
}

/// Accepts every undecided proposal as it stands; returns how many.
pub fn accept_all(doc: &mut PlanDocument) -> Result<usize> {
    let open: Vec<usize> = (0..doc.proposals.len())
        .filter(|&i| doc.proposals[i].decision.is_none())
        .collect();
    for &i in &open {
        decide(doc, i, Choice::Accept)?;
    }
    Ok(open.len())
}

fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Accepted => "accepted",
        Decision::Edited => "edited",
        Decision::Merged => "merged",
        Decision::Rejected => "rejected",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> PlanDocument {
        healthplan_importer::import_text(
            "健康样例行动方案\n为推进“十四五”时期健康样例建设，制定本方案。\n\
             2020年，全区居民健康素养水平为22.4%。\n\
             到2025年和2030年，全区居民健康素养水平分别不低于30%和35%，婴儿死亡率分别控制在3‰和2.5‰以下。\n\
             到2025年，建成健康主题公园2—3个。\n",
            "p.txt",
        )
        .unwrap()
        .plan
    }

    #[test]
    fn each_choice_links_the_statements() {
        let mut doc = plan();
        assert_eq!(doc.proposals.len(), 3, "{:#?}", doc.proposals);
        assert!(doc.indicators.is_empty());
        assert_eq!(decide(&mut doc, 0, Choice::Accept).unwrap(), Some(0));
        assert_eq!(doc.indicators[0].name, "居民健康素养水平");
        assert!(doc.indicators[0].doubts.is_empty());
        let linked: Vec<_> = doc.proposals[0]
            .statements
            .iter()
            .map(|&k| doc.target_statements[k].indicator)
            .collect();
        assert!(linked.iter().all(|&i| i == Some(0)));
        let mut edited = doc.proposals[1].indicator.clone();
        edited.name = "婴儿死亡率（全区）".into();
        decide(&mut doc, 1, Choice::Edit(Box::new(edited))).unwrap();
        assert_eq!(doc.indicators[1].name, "婴儿死亡率（全区）");
        assert_eq!(doc.indicators[1].source, Source::Statement);
        decide(&mut doc, 2, Choice::Reject).unwrap();
        assert_eq!(doc.indicators.len(), 2);
        let k = doc.proposals[2].statements[0];
        assert_eq!(doc.target_statements[k].indicator, None);
        assert_eq!(
            doc.proposals.iter().map(|p| p.decision).collect::<Vec<_>>(),
            [
                Some(Decision::Accepted),
                Some(Decision::Edited),
                Some(Decision::Rejected)
            ]
        );
        assert!(
            matches!(
                decide(&mut doc, 0, Choice::Reject),
                Err(AppError::Store(StoreError::Workflow { .. }))
            ),
            "a decision is made once"
        );
        assert!(matches!(
            decide(&mut doc, 9, Choice::Accept),
            Err(AppError::Store(StoreError::NotFound { .. }))
        ));
    }

    #[test]
    fn merging_adds_the_years_the_indicator_lacks() {
        let mut doc = plan();
        decide(&mut doc, 0, Choice::Accept).unwrap();
        doc.indicators[0].targets.truncate(1);
        let mut other = doc.proposals[1].clone();
        other.indicator.name = "居民健康素养水平".into();
        other.statements = doc.proposals[0].statements.clone();
        other.decision = None;
        doc.proposals.push(other);
        let last = doc.proposals.len() - 1;
        assert!(matches!(
            decide(&mut doc, last, Choice::Merge(7)),
            Err(AppError::Input(_))
        ));
        assert_eq!(decide(&mut doc, last, Choice::Merge(0)).unwrap(), Some(0));
        assert_eq!(
            doc.indicators[0]
                .targets
                .iter()
                .map(|t| t.year)
                .collect::<Vec<_>>(),
            [2025, 2030]
        );
        assert_eq!(accept_all(&mut doc).unwrap(), 2);
        assert!(doc.proposals.iter().all(|p| p.decision.is_some()));
    }
}
