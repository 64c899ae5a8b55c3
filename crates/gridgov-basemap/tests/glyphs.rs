//! Glyph ranges from DejaVu Sans (Debian's `fonts-dejavu-core`), decoded back: the metrics of
//! 'A', 'I' and the space are the font's own (`fontTools` read them: 'A' spans x 16..1384,
//! y 0..1493 of 2048 units, advance 1401; 'I' x 201..403, advance 604; ascender 1901, `head`
//! flags with integer scaling), scaled to 24 px as FreeType does for fontnik; the distance
//! bytes across 'I' (a plain bar) are what the 8-pixel radius and 0.25 cutoff give.

use gridgov_basemap::glyphs::{decode, glyph_range, parse_range, Fonts, GlyphError, SdfGlyph};

const DEJAVU: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

fn font() -> Vec<u8> {
    std::fs::read(DEJAVU)
        .unwrap_or_else(|e| panic!("{DEJAVU}: {e} (install the Debian package fonts-dejavu-core)"))
}

fn glyph(stack: &gridgov_basemap::glyphs::DecodedStack, c: char) -> &SdfGlyph {
    &stack
        .glyphs
        .iter()
        .find(|(id, _)| *id == u32::from(c))
        .unwrap_or_else(|| panic!("no glyph for {c:?}"))
        .1
}

#[test]
#[expect(
    clippy::many_single_char_names,
    reason = "glyphs named by their letters"
)]
fn latin_range_metrics() {
    let pbf = glyph_range(&font(), "DejaVu Sans Book", 0).unwrap();
    let stacks = decode(&pbf).unwrap();
    assert_eq!(stacks.len(), 1);
    let s = &stacks[0];
    assert_eq!(s.name, "DejaVu Sans Book");
    assert_eq!(s.range, "0-255");
    // Every code point below 256 the font maps (fontTools counts 191).
    assert_eq!(s.glyphs.len(), 191);
    assert!(s.glyphs.windows(2).all(|w| w[0].0 < w[1].0));

    // 'A': 16..1384 × 0..1493 units at 24/2048 px: x 0.19..16.22 → 0..16, y 0..17.50 → 0..17;
    // ascender 1901 → 22.28 → 22 (integer scaling rounds); advance 16.42 → 16.
    let a = glyph(s, 'A');
    assert_eq!(
        (a.width, a.height, a.left, a.top, a.advance),
        (16, 17, 0, 17 - 22, 16)
    );
    assert_eq!(a.bitmap.len(), (16 + 6) * (17 + 6));

    // Rows run top to bottom: the apex of 'A' is narrow, its feet wide apart.
    let inside = |g: &SdfGlyph, row: u32| -> Vec<u32> {
        let w = g.width + 6;
        (0..w)
            .filter(|&x| g.bitmap[(row * w + x) as usize] > 191)
            .collect()
    };
    let (top, bottom) = (inside(a, 4), inside(a, 3 + 17 - 1));
    assert!(
        top.len() < bottom.len() && bottom.first() < top.first(),
        "{top:?} {bottom:?}"
    );
    // and columns left to right: the stem of 'L' is on the left.
    let l = glyph(s, 'L');
    let stem = inside(l, 6);
    assert!(
        !stem.is_empty() && stem.iter().all(|&x| 2 * x < l.width + 6),
        "{stem:?}"
    );

    // The space: no outline, no bitmap, advance 651 units → 7 px.
    let space = glyph(s, ' ');
    assert_eq!((space.width, space.height, space.advance), (0, 0, 7));
    assert!(space.bitmap.is_empty());

    // 'I': a bar from x 2.36 to 4.72 px → box 2..5 (3 wide), shifted to 3.36..5.72 in the
    // 9-pixel-wide bitmap. Across a middle row: pixel 0 lies 2.86 px outside → 255 − (64 + 91)
    // = 100; pixel 4 lies 1.14 px inside → 255 − (64 − 36) = 228; pixel 8 lies 2.78 px outside
    // → 103. The edge itself sits at 191.
    let i = glyph(s, 'I');
    assert_eq!(
        (i.width, i.height, i.left, i.top, i.advance),
        (3, 17, 2, -5, 7)
    );
    let w = 9;
    let row = &i.bitmap[11 * w..12 * w];
    assert_eq!((row[0], row[4], row[8]), (100, 228, 103), "{row:?}");
    // Monotone towards the bar from both sides.
    assert!(row[..4].windows(2).all(|p| p[0] < p[1]), "{row:?}");
    assert!(row[5..].windows(2).all(|p| p[0] > p[1]), "{row:?}");
    // The buffer rows above and below are outside (under the edge value).
    assert!(i.bitmap[..w].iter().all(|&v| v < 191));
    assert!(i.bitmap[i.bitmap.len() - w..].iter().all(|&v| v < 191));
}

#[test]
fn other_ranges_and_errors() {
    let f = font();
    // Latin Extended-A: DejaVu has all 128 of 256..383 and more up to 511.
    let s = &decode(&glyph_range(&f, "DejaVu Sans Book", 256).unwrap()).unwrap()[0];
    assert_eq!(s.range, "256-511");
    assert!(s.glyphs.len() >= 128);
    // CJK: DejaVu has none; the range is empty, not an error.
    let s = &decode(&glyph_range(&f, "DejaVu Sans Book", 0x4e00).unwrap()).unwrap()[0];
    assert!(s.glyphs.is_empty());
    assert!(matches!(
        glyph_range(&f, "x", 100),
        Err(GlyphError::Range(100))
    ));
    let e = glyph_range(b"not a font", "Broken", 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Broken") && e.contains("not a TrueType"), "{e}");
    assert_eq!(parse_range("512-767").unwrap(), 512);
    assert!(parse_range("0-254").is_err());
    assert!(parse_range("abc").is_err());
}

#[test]
fn fonts_by_fontstack() {
    let mut fonts = Fonts::new();
    fonts.add("DejaVu Sans Book", font()).unwrap();
    // A list: the first known font draws it, named as asked.
    let pbf = fonts
        .range("Noto Sans Regular,DejaVu Sans Book", 0)
        .unwrap();
    let s = &decode(&pbf).unwrap()[0];
    assert_eq!(s.name, "Noto Sans Regular,DejaVu Sans Book");
    assert_eq!(glyph(s, 'A').width, 16);
    let e = fonts.range("Comic Sans", 0).unwrap_err().to_string();
    assert!(
        e.contains("unknown font") && e.contains("DejaVu Sans Book"),
        "{e}"
    );
    assert!(fonts.add("junk", b"junk".to_vec()).is_err());
    let debian = Fonts::debian().unwrap();
    assert_eq!(
        debian.names().collect::<Vec<_>>(),
        ["DejaVu Sans Bold", "DejaVu Sans Book"]
    );
}
