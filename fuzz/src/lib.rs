//! What the fuzz targets share: rendering diagnostics the way the command line does, so a
//! diagnostic that cannot be shown is found as well as one that cannot be made.

use preflight::diag::Diagnostics;

/// Renders every diagnostic with miette's graphical handler, as `preflight` prints them.
pub fn render(diags: &Diagnostics) {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100);
    for d in &diags.0 {
        let mut text = String::new();
        let _ = handler.render_report(&mut text, d);
    }
}
