//! Writes glyph ranges as static files, `OUT/{fontstack}/{start}-{end}.pbf`, for DejaVu Sans
//! Book and Bold (Debian's `fonts-dejavu-core`): for a static web server, or to look at.
//!
//! `cargo run -p gridgov-basemap --example glyph_files -- OUT [RANGES]` (default 1 range: 0-255).

use std::path::PathBuf;

use gridgov_basemap::Fonts;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().ok_or("usage: glyph_files OUT [RANGES]")?);
    let ranges: u32 = args.next().map_or(Ok(1), |r| r.parse())?;
    let fonts = Fonts::debian()?;
    for name in fonts.names() {
        let dir = out.join(name);
        std::fs::create_dir_all(&dir)?;
        for r in 0..ranges {
            let start = r * 256;
            let started = std::time::Instant::now();
            let pbf = fonts.range(name, start)?;
            let file = dir.join(format!("{start}-{}.pbf", start + 255));
            std::fs::write(&file, &pbf)?;
            eprintln!(
                "{}: {} bytes in {:.0} ms",
                file.display(),
                pbf.len(),
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
    }
    Ok(())
}
