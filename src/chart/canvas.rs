//! The chart's drawing surface: a bitmap that lays out and draws its text with the embedded
//! font (see [`Canvas`]).

use super::px;
use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendTextStyle, DrawingErrorKind, FontTransform,
};

/// A bitmap that draws its text itself.
///
/// plotters' own `ab_glyph` text drawing drops each glyph's side bearing, so narrow letters drift
/// ("Quest ions"). This backend lays out and rasterises text with the embedded font and hands every
/// other call to the bitmap. Beacon draws no rotated text; should some, plotters draws it.
pub(super) struct Canvas<'a, B> {
    pub(super) bitmap: B,
    pub(super) font: FontRef<'a>,
}

impl<B: DrawingBackend> Canvas<'_, B> {
    /// The width of a line of text in pixels: the glyphs' advances and kerning.
    fn advance(&self, text: &str, size: f64) -> f32 {
        let font = self.font.as_scaled(px_scale(size));
        let mut width = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                width += font.kern(previous, id);
            }
            width += font.h_advance(id);
            previous = Some(id);
        }
        width
    }
}

fn px_scale(size: f64) -> PxScale {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "font sizes are a few dozen pixels"
    )]
    PxScale::from(size as f32)
}

impl<B: DrawingBackend> DrawingBackend for Canvas<'_, B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.bitmap.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.bitmap.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.bitmap.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.bitmap.draw_pixel(point, color)
    }

    fn draw_line<S: plotters_backend::BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.bitmap.draw_line(from, to, style)
    }

    fn draw_rect<S: plotters_backend::BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.bitmap.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.bitmap.draw_path(path, style)
    }

    fn draw_circle<S: plotters_backend::BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.bitmap.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.bitmap.fill_polygon(vertices, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.bitmap.blit_bitmap(pos, size, src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        (x, y): BackendCoord,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        if !matches!(style.transform(), FontTransform::None) {
            return self.bitmap.draw_text(text, style, (x, y));
        }
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let width = self.advance(text, style.size());
        let font = self.font.as_scaled(px_scale(style.size()));
        // The anchor is a corner or middle of the line box, from ascent to descent.
        let left = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let baseline = match style.anchor().v_pos {
            VPos::Top => font.ascent(),
            VPos::Center => f32::midpoint(font.ascent(), font.descent()),
            VPos::Bottom => font.descent(),
        };
        #[expect(
            clippy::cast_precision_loss,
            reason = "pixel coordinates inside the image"
        )]
        let origin = (x as f32 + left, y as f32 + baseline);

        let mut coverage = Vec::new();
        let mut caret = origin.0;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                caret += font.kern(previous, id);
            }
            let glyph = id.with_scale_and_position(font.scale(), point(caret, origin.1));
            caret += font.h_advance(id);
            previous = Some(id);
            if let Some(outline) = font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "pixel coordinates inside the image"
                )]
                let (gx, gy) = (bounds.min.x as i32, bounds.min.y as i32);
                outline.draw(|dx, dy, cover| coverage.push((gx + px(dx), gy + px(dy), cover)));
            }
        }
        for (gx, gy, cover) in coverage {
            if cover > 0.0 {
                let alpha = color.alpha * f64::from(cover.min(1.0));
                self.bitmap.draw_pixel(
                    (gx, gy),
                    BackendColor {
                        alpha,
                        rgb: color.rgb,
                    },
                )?;
            }
        }
        Ok(())
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<B::ErrorType>> {
        let font = self.font.as_scaled(px_scale(style.size()));
        let height = font.ascent() - font.descent();
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "the size of a line of text in pixels: small and positive"
        )]
        let size = (
            self.advance(text, style.size()).ceil() as u32,
            height.ceil() as u32,
        );
        Ok(size)
    }
}
