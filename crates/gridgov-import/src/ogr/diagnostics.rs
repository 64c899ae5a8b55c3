//! GDAL's error messages, caught instead of printed.
//!
//! GDAL reports problems (a truncated `.shp`, an unknown open option) through a process-wide
//! error handler that prints to stderr by default. The importer installs, once, a handler that
//! keeps the last messages per thread, so that a reader can turn the messages raised while a
//! feature was read into that feature's rejection, and a library prints nothing.

use std::cell::RefCell;
use std::sync::Once;

use gdal::errors::CplErrType;

/// How many messages a thread keeps (threads that never drain them must not grow without end).
const KEEP: usize = 32;

thread_local! {
    static MESSAGES: RefCell<Vec<(CplErrType, String)>> = const { RefCell::new(Vec::new()) };
}

static INSTALL: Once = Once::new();

/// Installs the catching handler (once per process).
pub(crate) fn install() {
    INSTALL.call_once(|| {
        gdal::config::set_error_handler(|class, _number, message| {
            MESSAGES.with(|m| {
                let mut m = m.borrow_mut();
                if m.len() >= KEEP {
                    m.remove(0);
                }
                m.push((class, message.to_owned()));
            });
        });
    });
}

/// Forgets this thread's messages.
pub(crate) fn clear() {
    MESSAGES.with(|m| m.borrow_mut().clear());
}

/// Takes this thread's failure messages (warnings and debug output are dropped), joined.
pub(crate) fn take_failures() -> Option<String> {
    let failures: Vec<String> = MESSAGES.with(|m| {
        m.borrow_mut()
            .drain(..)
            .filter(|(class, _)| matches!(class, CplErrType::Failure | CplErrType::Fatal))
            .map(|(_, msg)| msg)
            .collect()
    });
    (!failures.is_empty()).then(|| failures.join("; "))
}

/// The reason to show for a failed GDAL call: the messages GDAL raised, else the error's
/// message; empty when GDAL gave none.
pub(crate) fn reason(e: &gdal::errors::GdalError) -> String {
    use gdal::errors::GdalError;
    take_failures().unwrap_or_else(|| match e {
        GdalError::NullPointer { msg, .. } | GdalError::CplError { msg, .. } => msg.clone(),
        other => other.to_string(),
    })
}
