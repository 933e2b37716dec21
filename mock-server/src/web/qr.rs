//! The QR code of the phone handoff link, as a small SVG (one path, no image dependencies).

use qrcode::{Color, EcLevel, QrCode};

#[derive(Debug, thiserror::Error)]
#[error("could not draw the QR code: {0}")]
pub struct QrError(String);

/// An SVG QR code for `text`, with the 4-module quiet zone scanners need.
pub fn svg(text: &str) -> Result<String, QrError> {
    let code = QrCode::with_error_correction_level(text, EcLevel::M)
        .map_err(|e| QrError(e.to_string()))?;
    let width = code.width();
    let size = width + 8;
    let mut path = String::new();
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == Color::Dark {
            let (x, y) = (i % width + 4, i / width + 4);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Ok(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges" role="img" aria-label="QR code"><rect width="{size}" height="{size}" fill="#fff"/><path fill="#000" d="{path}"/></svg>"##
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_has_modules_and_quiet_zone() {
        let s = svg("http://127.0.0.1:8080/journey/VLD00000000000000000000000000000001").unwrap();
        assert!(s.starts_with("<svg"));
        // A version-3+ code for a ~60-byte URL: at least 29 modules plus 8 of quiet zone.
        let size: usize = s
            .split("viewBox=\"0 0 ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(size >= 37, "size {size}");
        // The top-left finder pattern starts at the quiet zone's edge.
        assert!(s.contains("M4 4h1v1h-1z"));
        assert!(!s.contains("M0 0h1"));
    }
}
