//! What the fuzz targets share: rendering diagnostics the way the command line does, so a
//! diagnostic that cannot be shown is found as well as one that cannot be made.

use preflight::diag::Diagnostics;

/// Renders diagnostics with miette's graphical handler, as `preflight` prints them: the first
/// two and the last two. Rendering is nearly all of a policy input's time (wrapping text), and
/// an input with hundreds of problems would otherwise cost hundreds of renders of one kind.
pub fn render(diags: &Diagnostics) {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100);
    let n = diags.0.len();
    for (i, d) in diags.0.iter().enumerate() {
        if i < 2 || i + 2 >= n {
            let mut text = String::new();
            let _ = handler.render_report(&mut text, d);
        }
    }
}
