//! Glyphs drawn as small grey bitmaps, for comparing shapes: a 外字 against the ~60,000
//! glyphs of `IPAmj明朝`. `ttf-parser` reads the outlines (TrueType or CFF, no allocation,
//! safe on an untrusted file) and `ab_glyph_rasterizer` fills them with exact coverage;
//! both are pure Rust, so drawing the whole MJ font runs on every core with no C library
//! and no Python object per glyph.

// grids are at most 1,024 pixels a side: their indexes are exact in any float
#![allow(clippy::cast_precision_loss)]

use ab_glyph_rasterizer::{point, Point, Rasterizer};
use rayon::prelude::*;
use ttf_parser::{Face, GlyphId, OutlineBuilder};

/// One glyph's outline, kept in font units until its box is known.
#[derive(Default)]
struct Outline {
    segments: Vec<Segment>,
    start: (f32, f32),
    last: (f32, f32),
}

enum Segment {
    Line([(f32, f32); 2]),
    Quad([(f32, f32); 3]),
    Cubic([(f32, f32); 4]),
}

impl OutlineBuilder for Outline {
    fn move_to(&mut self, x: f32, y: f32) {
        self.start = (x, y);
        self.last = (x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.segments.push(Segment::Line([self.last, (x, y)]));
        self.last = (x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        self.segments
            .push(Segment::Quad([self.last, (x1, y1), (x, y)]));
        self.last = (x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.segments
            .push(Segment::Cubic([self.last, (x1, y1), (x2, y2), (x, y)]));
        self.last = (x, y);
    }
    fn close(&mut self) {
        // a contour left open is closed, as every rasteriser of TrueType does
        if self.last != self.start {
            self.segments.push(Segment::Line([self.last, self.start]));
        }
        self.last = self.start;
    }
}

/// The glyphs `glyphs` of the font `data`, each drawn on a `size`×`size` grid of coverage
/// (0–255), one after another. The em square fills `fill` of the grid (so strokes that
/// reach past it are kept) and each glyph's box is centred on it: two fonts place their
/// glyphs at different heights, but a character's strokes sit around the em's centre
/// in both. A glyph the font lacks, or an empty one, is all zeros.
///
/// # Errors
/// When `data` is no font `ttf-parser` can read.
pub fn render(data: &[u8], glyphs: &[u16], size: u16, fill: f32) -> Result<Vec<u8>, String> {
    let face = Face::parse(data, 0).map_err(|e| format!("not a font: {e}"))?;
    let scale = fill * f32::from(size) / f32::from(face.units_per_em());
    let cells = usize::from(size) * usize::from(size);
    let mut out = vec![0u8; glyphs.len() * cells];
    out.par_chunks_mut(cells.max(1))
        .zip(glyphs.par_iter())
        .for_each(|(cell, &glyph)| {
            let mut grey = vec![0f32; cells];
            draw(&face, glyph, size, scale, &mut grey);
            for (o, g) in cell.iter_mut().zip(&grey) {
                *o = (g * 255.0).round() as u8;
            }
        });
    Ok(out)
}

/// The glyphs drawn as [`render`] does on a `raw`×`raw` grid (em = 90%), then each
/// moment-normalised onto `size`×`size`: its ink's centroid at the centre and its spread
/// (standard deviation) along each axis `spread`·`size`. Two fonts draw one character
/// with parts of other proportions; normalising by moments, as character recognisers
/// do, brings them onto the same frame (cross-font top-1 0.83 → 0.86 on its own).
///
/// # Errors
/// When `data` is no font `ttf-parser` can read.
pub fn render_normalised(
    data: &[u8],
    glyphs: &[u16],
    raw: u16,
    size: u16,
    spread: f32,
) -> Result<Vec<u8>, String> {
    if raw < 2 {
        return Err("the drawing grid must be at least 2 pixels".into());
    }
    let face = Face::parse(data, 0).map_err(|e| format!("not a font: {e}"))?;
    let scale = 0.9 * f32::from(raw) / f32::from(face.units_per_em());
    let cells = usize::from(size) * usize::from(size);
    let mut out = vec![0u8; glyphs.len() * cells];
    out.par_chunks_mut(cells.max(1))
        .zip(glyphs.par_iter())
        .for_each(|(cell, &glyph)| {
            let mut grey = vec![0f32; usize::from(raw) * usize::from(raw)];
            draw(&face, glyph, raw, scale, &mut grey);
            normalise(&grey, usize::from(raw), usize::from(size), spread, cell);
        });
    Ok(out)
}

/// `grey` (`raw`² coverage) resampled onto `out` (`size`²) by its moments, bilinearly.
fn normalise(grey: &[f32], raw: usize, size: usize, spread: f32, out: &mut [u8]) {
    // the moments from the ink's row and column sums: two passes of `raw` values, not
    // of `raw`² pixels
    let mut rows = vec![0f64; raw];
    let mut columns = vec![0f64; raw];
    for (y, line) in grey.chunks_exact(raw).enumerate() {
        for (x, &g) in line.iter().enumerate() {
            rows[y] += f64::from(g);
            columns[x] += f64::from(g);
        }
    }
    let w: f64 = rows.iter().sum();
    if w <= 0.0 {
        return; // an empty glyph stays empty
    }
    let mean = |sums: &[f64]| {
        sums.iter()
            .enumerate()
            .map(|(i, s)| i as f64 * s)
            .sum::<f64>()
            / w
    };
    let (cx, cy) = (mean(&columns), mean(&rows));
    let spread_of = |sums: &[f64], c: f64| {
        sums.iter()
            .enumerate()
            .map(|(i, s)| (i as f64 - c).powi(2) * s)
            .sum::<f64>()
            / w
    };
    let (vx, vy) = (spread_of(&columns, cx), spread_of(&rows, cy));
    // a glyph of one straight stroke has no spread across it: keep a pixel's worth
    let (dx, dy) = (vx.sqrt().max(1.0), vy.sqrt().max(1.0));
    let unit = f64::from(spread) * size as f64;
    let middle = (size as f64 - 1.0) / 2.0;
    // the grid's columns and rows each fall at one place of the drawing: where, and
    // the weights of the two pixels either side (zero for a pixel off the drawing)
    let taps = |c: f64, d: f64| -> Vec<(usize, f64, f64)> {
        (0..size)
            .map(|i| {
                let g = c + ((i as f64 - middle) / unit) * d;
                let at = g.floor();
                let frac = g - at;
                let inside = |p: f64| (0.0..raw as f64).contains(&p);
                let low = if inside(at) { 1.0 - frac } else { 0.0 };
                let high = if inside(at + 1.0) { frac } else { 0.0 };
                (at.clamp(0.0, (raw - 2) as f64) as usize, low, high)
            })
            .collect()
    };
    let (xs, ys) = (taps(cx, dx), taps(cy, dy));
    for (line, &(y, ly, hy)) in out.chunks_exact_mut(size).zip(&ys) {
        let (top, bottom) = (
            &grey[y * raw..(y + 1) * raw],
            &grey[(y + 1) * raw..(y + 2) * raw],
        );
        for (o, &(x, lx, hx)) in line.iter_mut().zip(&xs) {
            let v = ly * (lx * f64::from(top[x]) + hx * f64::from(top[x + 1]))
                + hy * (lx * f64::from(bottom[x]) + hx * f64::from(bottom[x + 1]));
            *o = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        }
    }
}

fn draw(face: &Face<'_>, glyph: u16, size: u16, scale: f32, out: &mut [f32]) {
    let mut outline = Outline::default();
    let Some(bbox) = face.outline_glyph(GlyphId(glyph), &mut outline) else {
        return;
    };
    let centre = (
        f32::midpoint(f32::from(bbox.x_min), f32::from(bbox.x_max)),
        f32::midpoint(f32::from(bbox.y_min), f32::from(bbox.y_max)),
    );
    let half = f32::from(size) / 2.0;
    // font units (y up) to the grid (y down), the box's centre on the grid's
    // (a point past the grid is pulled onto its edge: the rasteriser would otherwise
    // carry a stroke left of the grid into the row above)
    let edge = f32::from(size);
    let at = |(x, y): (f32, f32)| -> Point {
        point(
            ((x - centre.0) * scale + half).clamp(0.0, edge),
            (half - (y - centre.1) * scale).clamp(0.0, edge),
        )
    };
    let width = usize::from(size);
    let mut raster = Rasterizer::new(width, width);
    for segment in &outline.segments {
        match segment {
            Segment::Line([a, b]) => raster.draw_line(at(*a), at(*b)),
            Segment::Quad([a, b, c]) => raster.draw_quad(at(*a), at(*b), at(*c)),
            Segment::Cubic([a, b, c, d]) => raster.draw_cubic(at(*a), at(*b), at(*c), at(*d)),
        }
    }
    raster.for_each_pixel_2d(|x, y, alpha| {
        // the winding of overlapping contours can sum past one: ink is ink
        out[y as usize * width + x as usize] = alpha.clamp(0.0, 1.0);
    });
}

/// The Euclidean distance from each pixel of a `size`² bitmap to the nearest pixel with
/// ink (value ≥ 128), exactly (Felzenszwalb and Huttenlocher's two passes of lower
/// envelopes of parabolas). A bitmap with no ink is far from everything.
#[must_use]
pub fn distances(bitmap: &[u8], size: usize) -> Vec<f32> {
    const FAR: f32 = 1.0e6;
    let mut d: Vec<f32> = bitmap
        .iter()
        .map(|&v| if v >= 128 { 0.0 } else { FAR })
        .collect();
    let mut line = vec![0f32; size];
    let mut got = vec![0f32; size];
    let mut hull = vec![0usize; size];
    let mut bounds = vec![0f32; size + 1];
    for y in 0..size {
        line.copy_from_slice(&d[y * size..(y + 1) * size]);
        envelope(&line, &mut got, &mut hull, &mut bounds);
        d[y * size..(y + 1) * size].copy_from_slice(&got);
    }
    for x in 0..size {
        for y in 0..size {
            line[y] = d[y * size + x];
        }
        envelope(&line, &mut got, &mut hull, &mut bounds);
        for y in 0..size {
            d[y * size + x] = got[y];
        }
    }
    d.iter().map(|v| v.sqrt()).collect()
}

/// One line's squared distance transform: `out[q] = min_p (q − p)² + f[p]`.
fn envelope(f: &[f32], out: &mut [f32], hull: &mut [usize], bounds: &mut [f32]) {
    let n = f.len();
    if n == 0 {
        return;
    }
    let square = |i: usize| (i * i) as f32;
    let mut k = 0usize;
    hull[0] = 0;
    bounds[0] = f32::NEG_INFINITY;
    bounds[1] = f32::INFINITY;
    let meet = |q: usize, p: usize| {
        ((f[q] + square(q)) - (f[p] + square(p))) / (2.0 * (q as f32 - p as f32))
    };
    for q in 1..n {
        // bounds[0] is −∞: the first parabola is never dropped, and k stays ≥ 0
        let mut s = meet(q, hull[k]);
        while s <= bounds[k] {
            k -= 1;
            s = meet(q, hull[k]);
        }
        k += 1;
        hull[k] = q;
        bounds[k] = s;
        bounds[k + 1] = f32::INFINITY;
    }
    let mut k = 0usize;
    for (q, o) in out.iter_mut().enumerate() {
        while bounds[k + 1] < q as f32 {
            k += 1;
        }
        let p = hull[k];
        let gap = q as f32 - p as f32;
        *o = gap * gap + f[p];
    }
}

/// How a query is bent onto a candidate before they are compared (see [`align`]).
#[derive(Clone, Copy, Debug)]
pub struct Align {
    /// the farthest a part may move, in pixels (0: no bending)
    pub reach: usize,
    /// pixels between the points whose shift is searched
    pub step: usize,
    /// the side of the square compared around each point
    pub window: usize,
    /// the blur both are compared under (its standard deviation, in pixels)
    pub blur: f32,
    /// the smoothing of the shifts across points (in points)
    pub smooth: f32,
    /// what a shift of one pixel costs against the match (keeps still what matches
    /// anywhere)
    pub cost: f32,
}

/// `bitmap` (`size`², 0–255) blurred by a Gaussian of `sigma` pixels, as 0–1, with
/// nothing outside the grid.
fn blurred(bitmap: &[u8], size: usize, sigma: f32) -> Vec<f32> {
    let radius = (3.0 * sigma).ceil() as usize;
    let kernel: Vec<f32> = (0..=2 * radius)
        .map(|i| {
            let d = i as f32 - radius as f32;
            (-(d * d) / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let total: f32 = kernel.iter().sum();
    let pass = |from: &[f32], along_rows: bool| -> Vec<f32> {
        let mut to = vec![0f32; size * size];
        for y in 0..size {
            for x in 0..size {
                let mut v = 0.0;
                for (i, w) in kernel.iter().enumerate() {
                    let Some(j) = (if along_rows { x } else { y } + i).checked_sub(radius) else {
                        continue;
                    };
                    if j < size {
                        v += w * if along_rows {
                            from[y * size + j]
                        } else {
                            from[j * size + x]
                        };
                    }
                }
                to[y * size + x] = v / total;
            }
        }
        to
    };
    let grey: Vec<f32> = bitmap.iter().map(|&v| f32::from(v) / 255.0).collect();
    pass(&pass(&grey, true), false)
}

/// `query` bent onto `target` (both `size`², 0–255): at points `step` apart, the shift
/// (up to `reach` pixels) under which the query's blurred window best matches the
/// target's (normalised correlation, less `cost` per squared pixel of shift); the
/// shifts smoothed across points and spread to every pixel; the query resampled. Two
/// fonts draw a character's parts a little apart or a little larger (a radical
/// narrower, a box taller): bending the 外字 onto a candidate first leaves only the
/// differences of strokes for [`rerank`] to weigh (dev top-1 0.89 → 0.92).
#[must_use]
pub fn align(query: &[u8], target: &[u8], size: usize, how: &Align) -> Vec<u8> {
    if how.reach == 0 || how.step == 0 || size < how.step {
        return query.to_vec();
    }
    let (q, t) = (
        blurred(query, size, how.blur),
        blurred(target, size, how.blur),
    );
    let reach = how.reach as isize;
    let n = size / how.step;
    let point = |i: usize| how.step / 2 + i * how.step;
    let half = how.window / 2;
    let at = |grid: &[f32], y: isize, x: isize| -> f32 {
        if y < 0 || x < 0 || y as usize >= size || x as usize >= size {
            0.0
        } else {
            grid[y as usize * size + x as usize]
        }
    };
    // the best shift at each point
    let mut shifts = vec![(0f32, 0f32); n * n];
    for gy in 0..n {
        for gx in 0..n {
            let (ys, xs) = (
                point(gy).saturating_sub(half)..(point(gy) + half).min(size),
                point(gx).saturating_sub(half)..(point(gx) + half).min(size),
            );
            let target_energy: f32 = ys
                .clone()
                .flat_map(|y| xs.clone().map(move |x| (y, x)))
                .map(|(y, x)| t[y * size + x] * t[y * size + x])
                .sum();
            let mut best = (f32::NEG_INFINITY, 0isize, 0isize);
            for dy in -reach..=reach {
                for dx in -reach..=reach {
                    let (mut both, mut energy) = (0f32, 0f32);
                    for y in ys.clone() {
                        for x in xs.clone() {
                            let v = at(&q, y as isize + dy, x as isize + dx);
                            both += v * t[y * size + x];
                            energy += v * v;
                        }
                    }
                    let fit = both / (energy * target_energy).sqrt().max(1e-6)
                        - how.cost * (dx * dx + dy * dy) as f32;
                    if fit > best.0 {
                        best = (fit, dy, dx);
                    }
                }
            }
            shifts[gy * n + gx] = (best.1 as f32, best.2 as f32);
        }
    }
    let shifts = smoothed(&shifts, n, how.smooth);
    // each pixel's shift, between its four nearest points
    let mut out = vec![0u8; size * size];
    let place = |c: usize| -> (usize, usize, f32) {
        let g = ((c as f32 - (how.step / 2) as f32) / how.step as f32).clamp(0.0, (n - 1) as f32);
        let low = (g.floor() as usize).min(n.saturating_sub(2));
        (low, (low + 1).min(n - 1), g - low as f32)
    };
    let raw: Vec<f32> = query.iter().map(|&v| f32::from(v)).collect();
    for y in 0..size {
        let (y0, y1, fy) = place(y);
        for x in 0..size {
            let (x0, x1, fx) = place(x);
            let mix = |f: fn(&(f32, f32)) -> f32| {
                let s = |gy: usize, gx: usize| f(&shifts[gy * n + gx]);
                (1.0 - fy) * ((1.0 - fx) * s(y0, x0) + fx * s(y0, x1))
                    + fy * ((1.0 - fx) * s(y1, x0) + fx * s(y1, x1))
            };
            let (sy, sx) = (y as f32 + mix(|s| s.0), x as f32 + mix(|s| s.1));
            let (ay, ax) = (sy.floor(), sx.floor());
            let (wy, wx) = (sy - ay, sx - ax);
            let (ay, ax) = (ay as isize, ax as isize);
            let v = (1.0 - wy) * ((1.0 - wx) * at(&raw, ay, ax) + wx * at(&raw, ay, ax + 1))
                + wy * ((1.0 - wx) * at(&raw, ay + 1, ax) + wx * at(&raw, ay + 1, ax + 1));
            out[y * size + x] = v.clamp(0.0, 255.0).round() as u8;
        }
    }
    out
}

/// A grid of shifts smoothed by a Gaussian of `sigma` points (weights renormalised at
/// the edges).
fn smoothed(shifts: &[(f32, f32)], n: usize, sigma: f32) -> Vec<(f32, f32)> {
    if sigma <= 0.0 {
        return shifts.to_vec();
    }
    let radius = (3.0 * sigma).ceil() as isize;
    let mut out = vec![(0f32, 0f32); n * n];
    for y in 0..n as isize {
        for x in 0..n as isize {
            let (mut sy, mut sx, mut total) = (0f32, 0f32, 0f32);
            for j in (y - radius).max(0)..=(y + radius).min(n as isize - 1) {
                for i in (x - radius).max(0)..=(x + radius).min(n as isize - 1) {
                    let d2 = ((j - y) * (j - y) + (i - x) * (i - x)) as f32;
                    let w = (-d2 / (2.0 * sigma * sigma)).exp();
                    let (a, b) = shifts[j as usize * n + i as usize];
                    sy += w * a;
                    sx += w * b;
                    total += w;
                }
            }
            out[y as usize * n + x as usize] = (sy / total, sx / total);
        }
    }
    out
}

/// The candidates of each query re-ranked by where they differ. For each pair of one
/// query's candidates, the pixels where one has ink and the other none within `apart`
/// are the pair's difference; the query, wherever it has ink within about `near`,
/// votes for the candidate with ink there (a Gaussian of the distance, from +1 on the
/// query's ink to −1 far from it). Each pair's margin, over the size of the difference,
/// is added to one and taken from the other. Two MJ variants (辻 with one dot or two,
/// 艹 in three strokes or four) differ in a few pixels, which a whole-glyph distance
/// drowns in the two fonts' differences of style: this looks only where they differ.
///
/// `queries` holds `n` bitmaps, `glyphs` the candidates' bitmaps, both `size`²;
/// `chosen` holds `k` indexes into `glyphs` per query. Each query is first bent onto
/// its first candidate ([`align`]). Returns `n`·`k` scores.
#[must_use]
#[allow(clippy::too_many_arguments)] // the two distances and the bending are the method
pub fn rerank(
    queries: &[u8],
    glyphs: &[u8],
    chosen: &[u32],
    k: usize,
    size: usize,
    apart: f32,
    near: f32,
    bend: &Align,
) -> Vec<f32> {
    let cells = size * size;
    if cells == 0 || k == 0 {
        return vec![0.0; chosen.len()];
    }
    // where each candidate is more than `apart` from any ink: all the vote needs of its
    // distances, kept as one byte a pixel
    let glyph_far: Vec<Vec<bool>> = glyphs
        .par_chunks(cells)
        .map(|g| distances(g, size).iter().map(|&d| d > apart).collect())
        .collect();
    let mut scores = vec![0f32; chosen.len()];
    scores
        .par_chunks_mut(k)
        .zip(queries.par_chunks(cells))
        .zip(chosen.par_chunks(k))
        .for_each(|((score, query), chosen)| {
            let first = chosen[0] as usize;
            let shaped = align(
                query,
                &glyphs[first * cells..(first + 1) * cells],
                size,
                bend,
            );
            let vote: Vec<f32> = distances(&shaped, size)
                .iter()
                .map(|d| 2.0 * (-(d * d) / (2.0 * near * near)).exp() - 1.0)
                .collect();
            for x in 0..chosen.len() {
                for y in x + 1..chosen.len() {
                    let (a, b) = (chosen[x] as usize, chosen[y] as usize);
                    let (ink_a, ink_b) = (
                        &glyphs[a * cells..(a + 1) * cells],
                        &glyphs[b * cells..(b + 1) * cells],
                    );
                    let (far_a, far_b) = (&glyph_far[a], &glyph_far[b]);
                    let (mut margin, mut pixels) = (0f32, 0f32);
                    for p in 0..cells {
                        if ink_a[p] >= 128 && far_b[p] {
                            margin += vote[p];
                            pixels += 1.0;
                        }
                        if ink_b[p] >= 128 && far_a[p] {
                            margin -= vote[p];
                            pixels += 1.0;
                        }
                    }
                    let margin = margin / (pixels + 1.0);
                    score[x] += margin;
                    score[y] -= margin;
                }
            }
        });
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_font_is_an_error() {
        assert!(render(b"not a font", &[0], 8, 0.9).is_err());
        assert!(render_normalised(b"", &[0], 8, 8, 0.2).is_err());
    }

    #[test]
    fn distances_are_exact() {
        // every pixel's distance against a brute-force search, on a scattered bitmap
        let size = 13;
        let bitmap: Vec<u8> = (0..size * size)
            .map(|i| if (i * 7919) % 37 == 0 { 255 } else { 0 })
            .collect();
        let got = distances(&bitmap, size);
        for (i, &d) in got.iter().enumerate() {
            let (x, y) = ((i % size) as f32, (i / size) as f32);
            let want = (0..size * size)
                .filter(|&j| bitmap[j] >= 128)
                .map(|j| ((j % size) as f32 - x).hypot((j / size) as f32 - y))
                .fold(f32::INFINITY, f32::min);
            assert!((d - want).abs() < 1e-3, "pixel {i}: {d} != {want}");
        }
    }

    #[test]
    fn a_pair_goes_to_the_one_with_the_querys_extra_stroke() {
        // two candidates, one with a dot the other lacks; the query has the dot
        let size = 16;
        let mut plain = vec![0u8; size * size];
        for x in 2..14 {
            plain[8 * size + x] = 255;
        }
        let mut dotted = plain.clone();
        dotted[3 * size + 8] = 255;
        dotted[3 * size + 9] = 255;
        let glyphs = [plain.clone(), dotted.clone()].concat();
        let got = rerank(&dotted, &glyphs, &[0, 1], 2, size, 1.5, 1.0, &STILL);
        assert!(got[1] > got[0], "{got:?}");
        let got = rerank(&plain, &glyphs, &[0, 1], 2, size, 1.5, 1.0, &STILL);
        assert!(got[0] > got[1], "{got:?}");
    }

    const STILL: Align = Align {
        reach: 0,
        step: 16,
        window: 24,
        blur: 2.0,
        smooth: 1.0,
        cost: 0.002,
    };

    #[test]
    fn a_shifted_part_is_brought_back() {
        // a bar drawn 3 pixels lower than the target's comes most of the way back (the
        // points above and below it, with no ink, hold still and pull on it)
        let size = 64;
        let bar = |row: usize| {
            let mut b = vec![0u8; size * size];
            for y in row..row + 4 {
                for x in 8..56 {
                    b[y * size + x] = 255;
                }
            }
            b
        };
        let (target, query) = (bar(30), bar(33));
        let how = Align { reach: 4, ..STILL };
        let bent = align(&query, &target, size, &how);
        let miss = |a: &[u8]| {
            a.iter()
                .zip(&target)
                .filter(|(p, t)| (**p >= 128) != (**t >= 128))
                .count()
        };
        assert!(
            miss(&bent) * 2 < miss(&query),
            "{} vs {}",
            miss(&bent),
            miss(&query)
        );
        assert_eq!(align(&query, &target, size, &STILL), query);
    }
}
