/* svg.c: a self-contained SVG bar chart of certified intervals (report.h): one column per
 * item, a bar from the proved-and-attained lower end to the proved upper end, a dot at the
 * attained value. The vertical scale is linear from min(0, lowest end) to the highest end.
 * Text is XML-escaped. Writes only to the FILE it is given. */
#include <math.h>
#include <string.h>

#include "report.h"

static void xml_text(FILE *out, const char *s) {
  for (; s && *s; s++) {
    if (*s == '<')
      fputs("&lt;", out);
    else if (*s == '>')
      fputs("&gt;", out);
    else if (*s == '&')
      fputs("&amp;", out);
    else if (*s == '"')
      fputs("&quot;", out);
    else if ((unsigned char)*s >= 0x20)
      fputc(*s, out);
  }
}

twinn_status twinn_svg_write_intervals(FILE *out, const char *title, size_t n,
                                       const char *const *labels, const double *lower,
                                       const double *upper, const double *value, twinn_error *err) {
  const double left = 80, top = 40, ph = 300, col = 60, bottom = 60;
  double pw = col * (double)(n ? n : 1), ymin = 0, ymax = -INFINITY, w, h;
  size_t i;
  for (i = 0; i < n; i++) {
    const double v[3] = {lower[i], upper[i], value[i]};
    for (int k = 0; k < 3; k++)
      if (isfinite(v[k])) {
        ymin = fmin(ymin, v[k]);
        ymax = fmax(ymax, v[k]);
      }
  }
  if (!(ymax > ymin)) ymax = ymin + 1;
  ymax += 0.05 * (ymax - ymin);
  w = left + pw + 20;
  h = top + ph + bottom;
#define Y(v)                                                                                       \
  (top + ph * (1 - ((isfinite(v) ? fmin(fmax(v, ymin), ymax)                                       \
                     : (v) > 0   ? ymax                                                            \
                                 : ymin) -                                                           \
                    ymin) /                                                                        \
                       (ymax - ymin)))
  fprintf(out,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
          "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
          w, h, w, h);
  fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
  fprintf(out, "<text x=\"%.1f\" y=\"20\" font-size=\"14\">", left);
  xml_text(out, title);
  fprintf(out, "</text>\n");
  /* Axis with five ticks. */
  fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", left,
          top, left, top + ph);
  for (i = 0; i <= 4; i++) {
    double v = ymin + (ymax - ymin) * (double)i / 4;
    fprintf(out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
            left, Y(v), left + pw, Y(v), left - 4, Y(v) + 4, v);
  }
  for (i = 0; i < n; i++) {
    double x = left + col * ((double)i + 0.5);
    fprintf(out,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"20\" height=\"%.1f\" fill=\"#9ecae1\" "
            "stroke=\"#3182bd\"><title>proved interval [%.6g, %.6g]</title></rect>\n",
            x - 10, Y(upper[i]), fmax(Y(lower[i]) - Y(upper[i]), 1.0), lower[i], upper[i]);
    if (!isfinite(upper[i]))
      fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">&#8593;</text>\n", x,
              top - 4);
    if (isfinite(value[i]))
      fprintf(out,
              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#e6550d\"><title>attained "
              "%.6g</title></circle>\n",
              x, Y(value[i]), value[i]);
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, top + ph + 16);
    xml_text(out, labels[i]);
    fprintf(out, "</text>\n");
  }
#undef Y
  fprintf(out,
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"#9ecae1\" "
          "stroke=\"#3182bd\"/><text x=\"%.1f\" y=\"%.1f\">certified interval [lower, "
          "upper]</text>\n<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#e6550d\"/><text "
          "x=\"%.1f\" y=\"%.1f\">attained value (replayed point)</text>\n</svg>\n",
          left, top + ph + 30, left + 16, top + ph + 40, left + 240, top + ph + 36, left + 250,
          top + ph + 40);
  if (fflush(out) != 0 || ferror(out))
    return twinn_error_set(err, TWINN_ERR_IO, NULL, 0, 0, "cannot write the SVG plot");
  return TWINN_OK;
}
