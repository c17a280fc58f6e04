//! The sign-in captcha ("additional code", manual §2): five digits as a raster image (PNG) drawn by
//! the `captcha` crate, distorted by two random waves and covered with noise pixels and blots. A
//! vector image would carry each digit as a shape a script reads off the markup; here the answer
//! exists only as pixels. No captcha stops a determined reader for long, so sign-in attempts are also
//! limited per certificate and per address ([`super::throttle`]).

use base64::Engine;
use captcha::filters::{Dots, Noise, Wave};
use captcha::Captcha;
use rand::Rng;

/// Digits that cannot be mistaken for letters (no 0 or 1).
const DIGITS: [char; 8] = ['2', '3', '4', '5', '6', '7', '8', '9'];
pub const LENGTH: usize = 5;
pub const WIDTH: u32 = 200;
pub const HEIGHT: u32 = 70;

/// A new captcha: its answer and its image.
pub struct CaptchaImage {
    pub answer: String,
    pub png: Vec<u8>,
}

/// Draws a new captcha with a random answer; `None` if the image could not be encoded.
pub fn new_image() -> Option<CaptchaImage> {
    let mut rng = rand::rng();
    let mut image = Captcha::new();
    image
        .set_chars(&DIGITS)
        .add_chars(LENGTH as u32)
        .apply_filter(Noise::new(rng.random_range(0.15..0.25)))
        .apply_filter(
            Wave::new(rng.random_range(1.5..3.0), rng.random_range(5.0..9.0)).horizontal(),
        )
        .apply_filter(Wave::new(rng.random_range(1.5..3.0), rng.random_range(4.0..8.0)).vertical())
        .view(WIDTH, HEIGHT)
        .apply_filter(
            Dots::new(rng.random_range(6..10))
                .min_radius(2)
                .max_radius(4),
        )
        .set_color(
            [[29, 53, 87], [106, 4, 15], [20, 83, 45], [60, 9, 108]][rng.random_range(0..4)],
        );
    let answer = image.chars_as_string();
    if answer.chars().count() != LENGTH {
        return None;
    }
    image.as_png().map(|png| CaptchaImage { answer, png })
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

/// The image as a `data:` URI for an `<img src>`.
pub fn data_uri(png: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_five_unambiguous_digits() {
        for _ in 0..50 {
            let image = new_image().expect("a captcha");
            assert_eq!(image.answer.len(), LENGTH);
            assert!(
                image.answer.chars().all(|c| DIGITS.contains(&c)),
                "{}",
                image.answer
            );
        }
    }

    /// What a script read off the former vector captcha: markup, a shape per digit. Here the image is
    /// pixels only, and the same answer is never drawn the same way twice.
    #[test]
    fn the_image_is_pixels_that_differ_each_time() {
        let image = new_image().expect("a captcha");
        assert!(image.png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
        let text = String::from_utf8_lossy(&image.png);
        assert!(!text.contains("<svg") && !text.contains("<path"));
        assert!(
            !text.contains(&image.answer),
            "the answer is not in the file"
        );
        assert!(data_uri(&image.png).starts_with("data:image/png;base64,"));

        let mut seen = std::collections::HashSet::new();
        for _ in 0..20 {
            assert!(seen.insert(new_image().expect("a captcha").png));
        }
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
