//! `expired-exception` and `unmatched-exception`: judged after every other check ran, since
//! only then is it known what each exception accepted.

use std::sync::atomic::Ordering;

use super::Ctx;
use crate::code;
use crate::finding::Finding;

pub(crate) fn run(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let Some(config) = ctx.config else { return };
    for e in &config.exceptions {
        let (line, col) = crate::source::line_col(&config.text, e.span.0);
        let mut f = if e.expired(ctx.today) {
            let date = e.expires.map(|d| d.to_string()).unwrap_or_default();
            Finding::new(&code::EXPIRED_EXCEPTION, format!("the exception \"{}\" expired on {date} and no longer accepts anything", e.reason))
                .help("do what the exception was waiting for and remove it, or renew it with a new date and reason through review")
        } else if e.hits.load(Ordering::Relaxed) == 0 {
            Finding::new(
                &code::UNMATCHED_EXCEPTION,
                format!("the exception \"{}\" accepted nothing in this run", e.reason),
            )
            .help("remove the exception, or correct its patterns")
        } else {
            continue;
        };
        f = f.identity(e.reason.clone());
        f.file = Some(config.file.clone());
        f.line = Some(line);
        f.column = Some(col);
        out.push(f);
    }
}
