//! The sign-in captcha ("additional code", manual §2): five digits drawn as jittered, rotated strokes
//! among noise curves, as an SVG made only of paths, so the answer is not in the image as text.

use base64::Engine;
use rand::Rng;

/// Digits that cannot be mistaken for letters (no 0 or 1).
const DIGITS: &[u8] = b"23456789";
pub const LENGTH: usize = 5;
const WIDTH: f64 = 168.0;
const HEIGHT: f64 = 52.0;

/// Each digit as strokes (polylines) in a 10 × 16 box.
fn strokes(digit: u8) -> &'static [&'static [(f64, f64)]] {
    match digit {
        b'2' => &[&[
            (1.0, 4.0),
            (3.0, 1.0),
            (7.0, 1.0),
            (9.0, 4.0),
            (9.0, 6.0),
            (1.0, 15.0),
            (9.5, 15.0),
        ]],
        b'3' => &[&[
            (1.0, 1.0),
            (9.0, 1.0),
            (5.0, 7.0),
            (8.0, 8.0),
            (9.0, 11.0),
            (8.0, 14.0),
            (5.0, 15.0),
            (1.0, 14.0),
        ]],
        b'4' => &[&[(7.0, 15.0), (7.0, 1.0), (1.0, 11.0), (9.5, 11.0)]],
        b'5' => &[&[
            (9.0, 1.0),
            (2.0, 1.0),
            (1.0, 7.0),
            (6.0, 6.0),
            (9.0, 9.0),
            (9.0, 12.0),
            (6.0, 15.0),
            (1.0, 14.0),
        ]],
        b'6' => &[&[
            (8.0, 1.0),
            (4.0, 3.0),
            (1.0, 9.0),
            (1.0, 13.0),
            (4.0, 15.0),
            (7.0, 15.0),
            (9.0, 12.0),
            (8.0, 9.0),
            (5.0, 8.0),
            (1.0, 10.0),
        ]],
        b'7' => &[
            &[(1.0, 1.0), (9.0, 1.0), (4.0, 15.0)],
            &[(3.0, 8.0), (8.0, 8.0)],
        ],
        b'8' => &[&[
            (5.0, 8.0),
            (2.0, 6.0),
            (2.0, 3.0),
            (5.0, 1.0),
            (8.0, 3.0),
            (8.0, 6.0),
            (5.0, 8.0),
            (1.5, 11.0),
            (2.0, 14.0),
            (5.0, 15.0),
            (8.0, 14.0),
            (8.5, 11.0),
            (5.0, 8.0),
        ]],
        _ => &[&[
            (9.0, 6.0),
            (5.0, 8.0),
            (2.0, 7.0),
            (1.0, 4.0),
            (3.0, 1.0),
            (7.0, 1.0),
            (9.0, 4.0),
            (9.0, 9.0),
            (6.0, 14.0),
            (2.0, 15.0),
        ]],
    }
}

/// A new random answer.
pub fn random_answer() -> String {
    let mut rng = rand::rng();
    (0..LENGTH)
        .map(|_| char::from(DIGITS[rng.random_range(0..DIGITS.len())]))
        .collect()
}

/// Whether `given` answers `answer`: surrounding and inner spaces are forgiven, full-width digits
/// (typed with a Chinese input method) count as digits.
pub fn matches(answer: &str, given: &str) -> bool {
    let normalised: String = given
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            _ => c,
        })
        .collect();
    !answer.is_empty() && normalised == answer
}

/// The image of `answer` as an SVG document.
pub fn render_svg(answer: &str) -> String {
    let mut rng = rand::rng();
    let mut svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' viewBox='0 0 {WIDTH} {HEIGHT}'>\
         <rect width='100%' height='100%' fill='#eef3f8'/>"
    );
    // Noise behind the digits.
    for _ in 0..5 {
        svg.push_str(&noise_curve(&mut rng, "#9fb3c8", 1.2));
    }
    let cell = WIDTH / (answer.len() as f64 + 1.0);
    for (i, digit) in answer.bytes().enumerate() {
        let scale = rng.random_range(2.1..2.6);
        let angle = rng.random_range(-0.3_f64..0.3);
        let cx = cell * (i as f64 + 1.0) + rng.random_range(-3.0..3.0);
        let cy = HEIGHT / 2.0 + rng.random_range(-3.0..3.0);
        let (sin, cos) = angle.sin_cos();
        let colour =
            ["#1d3557", "#6a040f", "#14532d", "#3c096c", "#7c2d12"][rng.random_range(0..5)];
        let mut d = String::new();
        for stroke in strokes(digit) {
            for (k, (x, y)) in stroke.iter().enumerate() {
                let x = (x - 5.0 + rng.random_range(-0.5..0.5)) * scale;
                let y = (y - 8.0 + rng.random_range(-0.5..0.5)) * scale;
                let (rx, ry) = (cx + x * cos - y * sin, cy + x * sin + y * cos);
                d.push_str(&format!(
                    "{}{rx:.1} {ry:.1} ",
                    if k == 0 { 'M' } else { 'L' }
                ));
            }
        }
        svg.push_str(&format!(
            "<path d='{}' fill='none' stroke='{colour}' stroke-width='{:.1}' stroke-linecap='round' stroke-linejoin='round'/>",
            d.trim_end(),
            rng.random_range(2.6..3.4)
        ));
    }
    // Noise across the digits.
    for _ in 0..2 {
        svg.push_str(&noise_curve(&mut rng, "#33415c", 1.4));
    }
    for _ in 0..40 {
        svg.push_str(&format!(
            "<circle cx='{:.1}' cy='{:.1}' r='{:.1}' fill='#5c677d'/>",
            rng.random_range(0.0..WIDTH),
            rng.random_range(0.0..HEIGHT),
            rng.random_range(0.4..1.2)
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn noise_curve(rng: &mut impl Rng, colour: &str, width: f64) -> String {
    let mut point = || (rng.random_range(0.0..WIDTH), rng.random_range(0.0..HEIGHT));
    let (a, b, c, d) = (point(), point(), point(), point());
    format!(
        "<path d='M{:.1} {:.1} C{:.1} {:.1} {:.1} {:.1} {:.1} {:.1}' fill='none' stroke='{colour}' stroke-width='{width}'/>",
        a.0, a.1, b.0, b.1, c.0, c.1, d.0, d.1
    )
}

/// The image as a `data:` URI for an `<img src>`.
pub fn data_uri(svg: &str) -> String {
    format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_five_unambiguous_digits() {
        for _ in 0..100 {
            let a = random_answer();
            assert_eq!(a.len(), LENGTH);
            assert!(a.bytes().all(|b| DIGITS.contains(&b)), "{a}");
        }
    }

    #[test]
    fn the_image_does_not_contain_the_answer_as_text() {
        let svg = render_svg("27583");
        assert!(svg.starts_with("<svg"));
        assert!(!svg.contains("<text"));
        assert_eq!(
            svg.matches("stroke-linecap").count(),
            5,
            "one path per digit"
        );
        assert!(data_uri(&svg).starts_with("data:image/svg+xml;base64,"));
    }

    #[test]
    fn typed_answers_are_normalised_before_comparing() {
        assert!(matches("27583", "27583"));
        assert!(matches("27583", " 275 83 "));
        assert!(matches("27583", "２７５８３"));
        assert!(!matches("27583", "27584"));
        assert!(!matches("27583", ""));
        assert!(!matches("", ""));
    }
}
