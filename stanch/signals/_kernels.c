/* The hot loops of hashing, in C: PDQ's 64x64 grid, and the line measures of the robustness views.
 *
 * Why C: once a 640x480 JPEG is decoded, these loops were most of the time it took to hash. numpy has
 * to gather each filter band into a fresh array before weighting it, and the views' measures are many
 * small array operations, each with a fixed cost larger than its arithmetic; here the same sums run
 * straight over the picture's rows.
 *
 * Determinism matters more than speed: a banked picture and its upload are often hashed on different
 * machines, so every sum is taken in one fixed order, floats are never contracted into fused
 * multiply-adds (-ffp-contract=off, and no FMA clone), and the AVX2 clone (picked at load time on CPUs
 * that have it) only runs more of the same independent sums at once. Results are identical on every
 * x86-64 CPU.
 *
 * Python side: stanch/signals/fast_pdq.py (the band weights, which are computed once per size and
 * cached) and stanch/signals/robust.py. Inputs are checked here, since a wrong index would read
 * outside the picture: every band must lie inside the picture, every buffer must have the size the
 * arguments imply.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#define GRID 64

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define FAST_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define FAST_CLONES
#endif

#if defined(__GNUC__) && defined(__x86_64__)
#define X86_VECTORS 1
#include <immintrin.h>
#else
#define X86_VECTORS 0
#endif
static int has_avx2 = 0; /* set when the module loads */

/* A 2-D uint8 or float32 plane as Python hands it over (any strides), and its pixel at (r, c). */
static int read_plane(Py_buffer *plane, const char *what) {
    if (plane->ndim != 2 || !((plane->itemsize == 1 && strcmp(plane->format, "B") == 0) ||
                              (plane->itemsize == 4 && strcmp(plane->format, "f") == 0))) {
        PyErr_Format(PyExc_ValueError, "%s: a 2-D uint8 or float32 array expected", what);
        return -1;
    }
    return 0;
}

static inline float pixel(const Py_buffer *plane, Py_ssize_t r, Py_ssize_t c) {
    const char *at = (const char *)plane->buf + r * plane->strides[0] + c * plane->strides[1];
    return plane->itemsize == 1 ? (float)*(const uint8_t *)at : *(const float *)at;
}

typedef float v8f __attribute__((vector_size(32)));
#define BLOCK 64 /* columns summed together: eight vectors, a cache line of a JPEG row, their additions overlapping */

typedef struct {
    const int32_t *starts;
    const float *weights;
    Py_ssize_t width, offset; /* sample k reads pixels offset + starts[k] .. + width - 1 */
} Band;

#if X86_VECTORS
/* tt[c][i] for the columns c0 .. c0 + 8 * vectors - 1 and every i (see row_pass), eight columns a vector,
 * with AVX2: the sums of up to eight vectors advance together, so that their additions overlap. */
__attribute__((target("avx2"))) static void row_block_avx2(float *restrict tt, const Py_buffer *plane,
                                                           const Band *rows, Py_ssize_t c0, int vectors) {
    const Py_ssize_t stride = plane->strides[0], size = plane->itemsize;
    for (int i = 0; i < GRID; i++) {
        const float *w = rows->weights + i * rows->width;
        const char *at = (const char *)plane->buf + (rows->starts[i] + rows->offset) * stride + c0 * size;
        __m256 sums[BLOCK / 8];
        for (int b = 0; b < vectors; b++) sums[b] = _mm256_setzero_ps();
        for (Py_ssize_t j = 0; j < rows->width; j++, at += stride) {
            const __m256 weight = _mm256_set1_ps(w[j]);
            for (int b = 0; b < vectors; b++) {
                const char *p = at + 8 * b * size;
                const __m256 x = size == 1 ? _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)))
                                           : _mm256_loadu_ps((const float *)p);
                sums[b] = _mm256_add_ps(sums[b], _mm256_mul_ps(weight, x));
            }
        }
        for (int b = 0; b < vectors; b++) {
            float lanes[8];
            _mm256_storeu_ps(lanes, sums[b]);
            for (int m = 0; m < 8; m++) tt[(c0 + 8 * b + m) * GRID + i] = lanes[m];
        }
    }
}
#endif

/* The row pass, written transposed: tt[c][i] = sum_j w[i][j] * plane[start[i] + j][c], the band's rows
 * added in order, one column at a time; with AVX2, when the plane's columns are next to each other
 * (a JPEG's luma: uint8; any other picture's: float32), BLOCK columns at a time. */
static void row_pass(float *restrict tt, const Py_buffer *plane, const Band *rows) {
    const Py_ssize_t width = plane->shape[1];
    Py_ssize_t c0 = 0;
#if X86_VECTORS
    if (has_avx2 && plane->strides[1] == plane->itemsize) {
        for (; c0 + BLOCK <= width; c0 += BLOCK) row_block_avx2(tt, plane, rows, c0, BLOCK / 8);
        for (; c0 + 8 <= width; c0 += 8) row_block_avx2(tt, plane, rows, c0, 1);
    }
#endif
    for (; c0 < width; c0++) {
        for (int i = 0; i < GRID; i++) {
            const float *w = rows->weights + i * rows->width;
            float sum = 0.0f;
            for (Py_ssize_t j = 0; j < rows->width; j++)
                sum += w[j] * pixel(plane, rows->starts[i] + rows->offset + j, c0);
            tt[c0 * GRID + i] = sum;
        }
    }
}

/* The column pass: grid[i][k] = sum_j w[k][j] * tt[start[k] + j][i], all 64 rows i at once. */
FAST_CLONES static void column_pass(float *restrict grid, const float *restrict tt, const Band *cols) {
    for (int k = 0; k < GRID; k++) {
        const float *w = cols->weights + k * cols->width;
        v8f sums[GRID / 8] = {{0}};
        for (Py_ssize_t j = 0; j < cols->width; j++) {
            const float *src = tt + (cols->starts[k] + cols->offset + j) * GRID;
            for (int b = 0; b < GRID / 8; b++) {
                v8f x;
                memcpy(&x, src + 8 * b, sizeof x);
                sums[b] += w[j] * x;
            }
        }
        for (int b = 0; b < GRID / 8; b++)
            for (int m = 0; m < 8; m++) grid[(8 * b + m) * GRID + k] = sums[b][m];
    }
}

/* Meta's quality of a grid: each step to the next row and column, x 100 / 255 in float and truncated,
 * summed as whole numbers; a 90th of that, at most 100. Each step at most 100: the sum fits 32 bits,
 * and the loops run over whole rows, so the compiler computes eight steps at once (same values). */
FAST_CLONES static int quality_of(const float *grid) {
    int32_t sum = 0;
    for (int i = 0; i + 1 < GRID; i++)
        for (int k = 0; k < GRID; k++)
            sum += (int32_t)fabsf((grid[i * GRID + k] - grid[(i + 1) * GRID + k]) * 100.0f / 255.0f);
    for (int i = 0; i < GRID; i++)
        for (int k = 0; k + 1 < GRID; k++)
            sum += (int32_t)fabsf((grid[i * GRID + k] - grid[i * GRID + k + 1]) * 100.0f / 255.0f);
    return sum / 90 < 100 ? (int)(sum / 90) : 100;
}

static void release(Py_buffer *views, int count) {
    for (int i = 0; i < count; i++) PyBuffer_Release(&views[i]);
}

/* A band: 64 starts (int32) and 64 x width weights (float32), each sample's run of pixels; moved by
 * offset pixels, every run must lie inside 0..n. */
static int read_band(Py_buffer *starts, Py_buffer *weights, Py_ssize_t offset, Py_ssize_t n, Band *band,
                     const char *axis) {
    if (starts->itemsize != 4 || starts->len != GRID * 4 || strcmp(starts->format, "i") != 0 ||
        weights->itemsize != 4 || weights->len == 0 || weights->len % (GRID * 4) != 0 ||
        strcmp(weights->format, "f") != 0) {
        PyErr_Format(PyExc_ValueError, "%s band: 64 int32 starts and 64 x width float32 weights expected", axis);
        return -1;
    }
    band->starts = (const int32_t *)starts->buf;
    band->weights = (const float *)weights->buf;
    band->width = weights->len / (GRID * 4);
    band->offset = offset;
    for (int k = 0; k < GRID; k++) {
        if (band->starts[k] + offset < 0 || band->starts[k] + offset + band->width > n) {
            PyErr_Format(PyExc_ValueError, "%s band of sample %d leaves the picture of %zd pixels", axis, k, n);
            return -1;
        }
    }
    return 0;
}

/* The column bands of sample_grids: a sequence of (starts, weights, offset), their buffers kept in views. */
static Py_ssize_t read_columns(PyObject *columns, Py_ssize_t n, Py_buffer **views, Band **bands) {
    PyObject *items = PySequence_Fast(columns, "columns: a sequence of (starts, weights, offset) expected");
    if (!items) return -1;
    const Py_ssize_t count = PySequence_Fast_GET_SIZE(items);
    *views = PyMem_Calloc(2 * (count > 0 ? count : 1), sizeof(Py_buffer));
    *bands = PyMem_Calloc(count > 0 ? count : 1, sizeof(Band));
    Py_ssize_t held = 0;
    if (!*views || !*bands) {
        PyErr_NoMemory();
    } else {
        for (; held < count; held++) {
            PyObject *starts, *weights;
            Py_ssize_t offset;
            Py_buffer *pair = *views + 2 * held;
            if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(items, held), "OOn", &starts, &weights, &offset) ||
                PyObject_GetBuffer(starts, &pair[0], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
                break;
            if (PyObject_GetBuffer(weights, &pair[1], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
                PyBuffer_Release(&pair[0]);
                break;
            }
            if (read_band(&pair[0], &pair[1], offset, n, *bands + held, "column") < 0) {
                release(pair, 2);
                break;
            }
        }
    }
    Py_DECREF(items);
    if (held < count || count == 0) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "columns: at least one band expected");
        if (*views) release(*views, 2 * held);
        return -1;
    }
    return count;
}

static PyObject *sample_grids(PyObject *self, PyObject *args) {
    PyObject *objects[4], *columns;
    if (!PyArg_ParseTuple(args, "OOOOO", &objects[0], &objects[1], &objects[2], &columns, &objects[3]))
        return NULL;
    Py_buffer views[4];
    const int flags[4] = {PyBUF_STRIDES | PyBUF_FORMAT, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT,
                          PyBUF_C_CONTIGUOUS | PyBUF_FORMAT, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE};
    for (int i = 0; i < 4; i++) {
        if (PyObject_GetBuffer(objects[i], &views[i], flags[i]) < 0) {
            release(views, i);
            return NULL;
        }
    }
    Py_buffer *plane = &views[0], *out = &views[3], *column_views = NULL;
    Band rows, *cols = NULL;
    Py_ssize_t count = -1;
    float *tt = NULL;
    int *qualities = NULL;
    PyObject *result = NULL;
    if (read_plane(plane, "plane") < 0) {
    } else if (plane->strides[1] % plane->itemsize != 0) {
        PyErr_SetString(PyExc_ValueError, "plane: columns must be whole pixels apart");
    } else if (read_band(&views[1], &views[2], 0, plane->shape[0], &rows, "row") == 0 &&
               (count = read_columns(columns, plane->shape[1], &column_views, &cols)) > 0) {
        if (out->len != count * GRID * GRID * 4 || strcmp(out->format, "f") != 0) {
            PyErr_SetString(PyExc_ValueError, "out: a writable float32 64 x 64 grid for each column band expected");
        } else {
            tt = malloc((size_t)plane->shape[1] * GRID * sizeof(float));
            qualities = PyMem_Malloc(count * sizeof(int));
            if (!tt || !qualities) PyErr_NoMemory();
        }
    }
    if (tt && qualities) {
        Py_BEGIN_ALLOW_THREADS
        row_pass(tt, plane, &rows);
        for (Py_ssize_t n = 0; n < count; n++) {
            float *grid = (float *)out->buf + n * GRID * GRID;
            column_pass(grid, tt, &cols[n]);
            qualities[n] = quality_of(grid);
        }
        Py_END_ALLOW_THREADS
        result = PyList_New(count);
        for (Py_ssize_t n = 0; result && n < count; n++) {
            PyObject *quality = PyLong_FromLong(qualities[n]);
            if (!quality) Py_CLEAR(result);
            else PyList_SET_ITEM(result, n, quality);
        }
    }
    free(tt);
    PyMem_Free(qualities);
    if (count > 0) release(column_views, 2 * (int)count);
    PyMem_Free(column_views);
    PyMem_Free(cols);
    release(views, 4);
    return result;
}

/* The k-th smallest of values (reordering them): Hoare's selection, linear time on average. */
static float select_kth(float *values, Py_ssize_t count, Py_ssize_t k) {
    Py_ssize_t low = 0, high = count - 1;
    while (low < high) {
        const float pivot = values[low + (high - low) / 2];
        Py_ssize_t i = low, j = high;
        while (i <= j) {
            while (values[i] < pivot) i++;
            while (values[j] > pivot) j--;
            if (i <= j) {
                const float swap = values[i];
                values[i++] = values[j];
                values[j--] = swap;
            }
        }
        if (k <= j) high = j;
        else if (k >= i) low = i;
        else break;
    }
    return values[k];
}

/* The colour of a line: its median (the upper one of an even count), the background's when most of
 * the line is background. */
static int line_median(const Py_buffer *lines, float *median) {
    const Py_ssize_t length = lines->shape[1];
    float *values = malloc((size_t)length * sizeof(float));
    if (!values) return -1;
    for (Py_ssize_t c = 0; c < length; c++) values[c] = pixel(lines, 0, c);
    *median = select_kth(values, length, length / 2);
    free(values);
    return 0;
}

/* leading_shares(lines, tolerance, minimum) -> list of float: the colour of the first line (rows of a
 * 2-D plane), then for the leading lines the share of pixels within tolerance of it, as long as it is
 * at least minimum. */
static PyObject *leading_shares(PyObject *self, PyObject *args) {
    PyObject *object;
    double tolerance, minimum;
    if (!PyArg_ParseTuple(args, "Odd", &object, &tolerance, &minimum)) return NULL;
    Py_buffer lines;
    if (PyObject_GetBuffer(object, &lines, PyBUF_STRIDES | PyBUF_FORMAT) < 0) return NULL;
    if (read_plane(&lines, "lines") < 0) {
        PyBuffer_Release(&lines);
        return NULL;
    }
    PyObject *shares = PyList_New(0);
    const Py_ssize_t count = lines.shape[0], length = lines.shape[1];
    float colour = 0.0f;
    if (shares && count > 0 && length > 0 && line_median(&lines, &colour) < 0) {
        Py_CLEAR(shares);
        PyErr_NoMemory();
    }
    for (Py_ssize_t r = 0; shares && r < count && length > 0; r++) {
        Py_ssize_t near = 0;
        for (Py_ssize_t c = 0; c < length; c++) near += fabs(pixel(&lines, r, c) - colour) <= tolerance;
        const double share = (double)near / (double)length;
        if (share < minimum) break;
        PyObject *value = PyFloat_FromDouble(share);
        if (!value || PyList_Append(shares, value) < 0) Py_CLEAR(shares);
        Py_XDECREF(value);
    }
    PyBuffer_Release(&lines);
    return shares;
}

/* Summed absolute steps to the next column, column by column over the sampled rows: any plane, and
 * the fast order for a transposed one (its columns are the picture's rows, in memory order). */
static void profile_columns(double *sums, const Py_buffer *plane, Py_ssize_t step) {
    for (Py_ssize_t c = 0; c < plane->shape[1] - 1; c++) {
        double sum = 0.0;
        for (Py_ssize_t r = step / 2; r < plane->shape[0]; r += step)
            sum += fabs(pixel(plane, r, c + 1) - pixel(plane, r, c));
        sums[c] = sum;
    }
}

/* The same for a transposed JPEG luma (each column of the plane a row of the picture, in memory order)
 * when every row is read: a column's steps are one run of whole numbers, summed 32 at a time with AVX2
 * (sums of absolute differences of bytes). */
#if X86_VECTORS
__attribute__((target("avx2"))) static int64_t absolute_steps_avx2(const uint8_t *a, const uint8_t *b,
                                                                   Py_ssize_t n, Py_ssize_t *done) {
    __m256i total = _mm256_setzero_si256();
    Py_ssize_t r = 0;
    for (; r + 32 <= n; r += 32) {
        const __m256i x = _mm256_loadu_si256((const __m256i *)(a + r));
        const __m256i y = _mm256_loadu_si256((const __m256i *)(b + r));
        total = _mm256_add_epi64(total, _mm256_sad_epu8(x, y));
    }
    int64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, total);
    *done = r;
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}
#endif

static int64_t absolute_steps(const uint8_t *a, const uint8_t *b, Py_ssize_t n) {
    int64_t sum = 0;
    Py_ssize_t r = 0;
#if X86_VECTORS
    if (has_avx2) sum = absolute_steps_avx2(a, b, n, &r);
#endif
    for (; r < n; r++) sum += abs((int)b[r] - (int)a[r]);
    return sum;
}

static void profile_transposed_u8(double *sums, const Py_buffer *plane) {
    for (Py_ssize_t c = 0; c < plane->shape[1] - 1; c++) {
        const uint8_t *a = (const uint8_t *)plane->buf + c * plane->strides[1];
        sums[c] = (double)absolute_steps(a, a + plane->strides[1], plane->shape[0]);
    }
}

#if X86_VECTORS
/* counts[c] += |row[c + 1] - row[c]| for the columns c < width that fill whole vectors of 32, over
 * the rows given, with AVX2: the steps of up to 256 rows are added in 16 bits (255 x 256 fits), then
 * moved into the 32-bit counts. Returns how many columns it counted. */
__attribute__((target("avx2"))) static Py_ssize_t profile_rows_avx2(int32_t *counts, uint16_t *partial,
                                                                    const Py_buffer *plane, Py_ssize_t step) {
    const Py_ssize_t width = (plane->shape[1] - 1) / 32 * 32;
    Py_ssize_t rows = 0;
    for (Py_ssize_t r = step / 2; r < plane->shape[0]; r += step) {
        const uint8_t *row = (const uint8_t *)plane->buf + r * plane->strides[0];
        for (Py_ssize_t c = 0; c < width; c += 32) {
            const __m256i x = _mm256_loadu_si256((const __m256i *)(row + c));
            const __m256i y = _mm256_loadu_si256((const __m256i *)(row + c + 1));
            const __m256i d = _mm256_or_si256(_mm256_subs_epu8(x, y), _mm256_subs_epu8(y, x));
            __m256i *sum = (__m256i *)(partial + c);
            _mm256_storeu_si256(sum, _mm256_add_epi16(_mm256_loadu_si256(sum),
                                                      _mm256_cvtepu8_epi16(_mm256_castsi256_si128(d))));
            _mm256_storeu_si256(sum + 1, _mm256_add_epi16(_mm256_loadu_si256(sum + 1),
                                                          _mm256_cvtepu8_epi16(_mm256_extracti128_si256(d, 1))));
        }
        if (++rows == 256 || r + step >= plane->shape[0]) {
            for (Py_ssize_t c = 0; c < width; c++) counts[c] += partial[c];
            memset(partial, 0, (size_t)width * sizeof(uint16_t));
            rows = 0;
        }
    }
    return width;
}
#endif

/* Summed absolute steps to the next column, row by row: for a JPEG's own luma (uint8, rows in memory
 * order), where whole rows are added at once. Whole numbers: any order gives the same sums. */
static void profile_rows_u8(double *sums, const Py_buffer *plane, Py_ssize_t step) {
    const Py_ssize_t width = plane->shape[1] - 1;
    int32_t *counts = calloc((size_t)width, sizeof(int32_t));  /* at most 1,023 lines x 255: no overflow */
    uint16_t *partial = calloc((size_t)width, sizeof(uint16_t));
    if (!counts || !partial) {
        free(counts), free(partial);
        profile_columns(sums, plane, step);
        return;
    }
    Py_ssize_t done = 0;
#if X86_VECTORS
    if (has_avx2) done = profile_rows_avx2(counts, partial, plane, step);
#endif
    for (Py_ssize_t r = step / 2; r < plane->shape[0]; r += step) {
        const uint8_t *row = (const uint8_t *)plane->buf + r * plane->strides[0];
        for (Py_ssize_t c = done; c < width; c++) counts[c] += abs((int)row[c + 1] - (int)row[c]);
    }
    for (Py_ssize_t c = 0; c < width; c++) sums[c] = counts[c];
    free(counts), free(partial);
}

/* edge_profile(plane, out): out[c] = mean over the sampled rows (every step-th from step / 2, step =
 * max(1, rows // 512)) of |plane[r][c + 1] - plane[r][c]|; out holds columns - 1 float32 values. */
static PyObject *edge_profile(PyObject *self, PyObject *args) {
    PyObject *objects[2];
    if (!PyArg_ParseTuple(args, "OO", &objects[0], &objects[1])) return NULL;
    Py_buffer views[2];
    if (PyObject_GetBuffer(objects[0], &views[0], PyBUF_STRIDES | PyBUF_FORMAT) < 0) return NULL;
    if (PyObject_GetBuffer(objects[1], &views[1], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) {
        release(views, 1);
        return NULL;
    }
    Py_buffer *plane = &views[0], *out = &views[1];
    if (read_plane(plane, "plane") < 0 || plane->shape[1] < 2 || strcmp(out->format, "f") != 0 ||
        out->len != (plane->shape[1] - 1) * 4) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "out: columns - 1 float32 values expected, and 2 columns at least");
        release(views, 2);
        return NULL;
    }
    const Py_ssize_t rows = plane->shape[0], width = plane->shape[1] - 1;
    const Py_ssize_t step = rows / 512 > 1 ? rows / 512 : 1;
    double *sums = calloc((size_t)width, sizeof(double));
    if (!sums) {
        release(views, 2);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    if (plane->itemsize == 1 && plane->strides[1] == 1) profile_rows_u8(sums, plane, step);
    else if (plane->itemsize == 1 && plane->strides[0] == 1 && step == 1) profile_transposed_u8(sums, plane);
    else profile_columns(sums, plane, step);
    const Py_ssize_t lines = (rows - step / 2 + step - 1) / step;
    float *profile = (float *)out->buf;
    for (Py_ssize_t c = 0; c < width; c++) profile[c] = (float)(sums[c] / (double)lines);
    Py_END_ALLOW_THREADS
    free(sums);
    release(views, 2);
    Py_RETURN_NONE;
}

/* PDQ's luma of an RGB picture, (0.299 r + 0.587 g) + 0.114 b with every product and sum rounded to
 * float32, as pdqhash's C++ computes it, and the same bits on every CPU (the extension is built with
 * -ffp-contract=off: no fused multiply-add). numpy's rgb @ weights went to OpenBLAS, whose per-CPU
 * kernels fuse them on some machines: an AVX-512 machine moved two conformance pictures' hashes. */
static PyObject *luma_rgb(PyObject *self, PyObject *args) {
    PyObject *objects[2];
    if (!PyArg_ParseTuple(args, "OO", &objects[0], &objects[1])) return NULL;
    Py_buffer views[2];
    if (PyObject_GetBuffer(objects[0], &views[0], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    if (PyObject_GetBuffer(objects[1], &views[1], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) {
        release(views, 1);
        return NULL;
    }
    const Py_ssize_t pixels = views[1].len / 4;
    if (strcmp(views[0].format, "B") || strcmp(views[1].format, "f") || views[0].len != pixels * 3) {
        PyErr_SetString(PyExc_ValueError, "luma_rgb: C-contiguous uint8 RGB and float32 out of as many pixels "
                                          "expected");
        release(views, 2);
        return NULL;
    }
    const uint8_t *rgb = (const uint8_t *)views[0].buf;
    float *luma = (float *)views[1].buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t p = 0; p < pixels; p++) {
        const float red = 0.299f * (float)rgb[3 * p], green = 0.587f * (float)rgb[3 * p + 1];
        const float partial = red + green;
        luma[p] = partial + 0.114f * (float)rgb[3 * p + 2];
    }
    Py_END_ALLOW_THREADS
    release(views, 2);
    Py_RETURN_NONE;
}

/* Profile positions by strength, strongest first; equal strengths in order of position. */
typedef struct {
    double strength;
    Py_ssize_t position;
} Peak;

static int stronger_first(const void *a, const void *b) {
    const Peak *x = a, *y = b;
    if (x->strength != y->strength) return x->strength < y->strength ? 1 : -1;
    return (x->position > y->position) - (x->position < y->position);
}

/* The profile smoothed by a Gaussian of standard deviation sigma (edges extended), into smooth. */
static int gaussian_smooth(const float *profile, Py_ssize_t n, double sigma, double *smooth) {
    const Py_ssize_t radius = (Py_ssize_t)(3 * sigma) + 1, taps = 2 * radius + 1;
    double *kernel = malloc((size_t)taps * sizeof(double)), *padded = malloc((size_t)(n + 2 * radius) * sizeof(double));
    if (!kernel || !padded) {
        free(kernel), free(padded);
        return -1;
    }
    double total = 0.0;
    for (Py_ssize_t k = 0; k < taps; k++) total += kernel[k] = exp(-0.5 * ((k - radius) / sigma) * ((k - radius) / sigma));
    for (Py_ssize_t k = 0; k < taps; k++) kernel[k] /= total;
    for (Py_ssize_t i = 0; i < n + 2 * radius; i++)
        padded[i] = profile[i < radius ? 0 : i - radius >= n ? n - 1 : i - radius];
    memset(smooth, 0, (size_t)n * sizeof(double));
    for (Py_ssize_t k = 0; k < taps; k++)  /* tap by tap: each sum in the same order, many sums at once */
        for (Py_ssize_t i = 0; i < n; i++) smooth[i] += kernel[k] * padded[i + k];
    free(kernel), free(padded);
    return 0;
}

/* peaks(profile, smoothing) -> (indices, positions): the local maxima of a float32 profile smoothed by
 * a Gaussian (standard deviation smoothing x its length, at least 1), strongest first (equal ones in
 * order of position): their indices, and their positions between pixels (the vertex of the parabola
 * through the maximum and its two neighbours). Two lists. */
static PyObject *peaks(PyObject *self, PyObject *args) {
    PyObject *object;
    double smoothing;
    if (!PyArg_ParseTuple(args, "Od", &object, &smoothing)) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(object, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    if (view.itemsize != 4 || strcmp(view.format, "f") != 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "profile: a 1-D float32 array expected");
        return NULL;
    }
    const Py_ssize_t n = view.len / 4;
    double *smooth = n >= 3 ? malloc((size_t)n * sizeof(double)) : NULL;
    Peak *found = n >= 3 ? malloc((size_t)n * sizeof(Peak)) : NULL;
    Py_ssize_t count = 0;
    int ok = n < 3;
    if (n >= 3 && smooth && found &&
        gaussian_smooth((const float *)view.buf, n, smoothing * n > 1.0 ? smoothing * n : 1.0, smooth) == 0) {
        ok = 1;
        for (Py_ssize_t i = 1; i < n - 1; i++)
            if (smooth[i] >= smooth[i - 1] && smooth[i] > smooth[i + 1]) found[count++] = (Peak){smooth[i], i};
        if (count) qsort(found, (size_t)count, sizeof(Peak), stronger_first);
    }
    PyObject *indices = ok ? PyList_New(count) : NULL, *positions = ok ? PyList_New(count) : NULL;
    for (Py_ssize_t p = 0; indices && positions && p < count; p++) {
        const Py_ssize_t i = found[p].position;
        const double left = smooth[i - 1], middle = smooth[i], right = smooth[i + 1];
        const double curvature = left - 2 * middle + right;
        PyObject *index = PyLong_FromSsize_t(i);
        PyObject *position = PyFloat_FromDouble(i + (curvature != 0.0 ? 0.5 * (left - right) / curvature : 0.0));
        if (!index || !position) {
            Py_XDECREF(index), Py_XDECREF(position);
            Py_CLEAR(indices);
            break;
        }
        PyList_SET_ITEM(indices, p, index);
        PyList_SET_ITEM(positions, p, position);
    }
    free(smooth), free(found);
    PyBuffer_Release(&view);
    if (!ok) PyErr_NoMemory();
    PyObject *result = indices && positions ? PyTuple_Pack(2, indices, positions) : NULL;
    Py_XDECREF(indices), Py_XDECREF(positions);
    return result;
}

/* The Hamming scan of retroactive matching's upload log (stanch.index.multi_index.scan over a large
 * segment): every (query, row) pair within threshold bits, for rows and queries of 4 uint64 words.
 * Each row is read from memory once and compared with every query (the queries stay in the CPU's
 * first-level cache), however many queries there are; the GIL is released meanwhile.
 * Exact integer arithmetic: the same pairs and distances as numpy's xor and popcount. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define POPCNT_CLONES
#endif

typedef struct { int64_t *pairs; size_t count, capacity; } Found;

static int found_add(Found *found, int64_t row, int64_t distance) {
    if (found->count == found->capacity) {
        size_t capacity = found->capacity ? 2 * found->capacity : 64;
        int64_t *grown = realloc(found->pairs, capacity * 2 * sizeof(int64_t));
        if (!grown) return -1;
        found->pairs = grown, found->capacity = capacity;
    }
    found->pairs[2 * found->count] = row, found->pairs[2 * found->count + 1] = distance;
    found->count++;
    return 0;
}

POPCNT_CLONES
static int scan_rows(const uint64_t *rows, size_t n, const uint64_t *queries, size_t q, int threshold,
                     Found *found) {
    for (size_t r = 0; r < n; r++) {
        const uint64_t a0 = rows[4 * r], a1 = rows[4 * r + 1], a2 = rows[4 * r + 2], a3 = rows[4 * r + 3];
        for (size_t j = 0; j < q; j++) {
            const uint64_t *b = queries + 4 * j;
            int d = __builtin_popcountll(a0 ^ b[0]) + __builtin_popcountll(a1 ^ b[1]) +
                    __builtin_popcountll(a2 ^ b[2]) + __builtin_popcountll(a3 ^ b[3]);
            if (d <= threshold && found_add(&found[j], (int64_t)r, d) < 0) return -1;
        }
    }
    return 0;
}

static PyObject *hamming_scan(PyObject *self, PyObject *args) {
    Py_buffer rows, queries;
    int threshold;
    if (!PyArg_ParseTuple(args, "y*y*i", &rows, &queries, &threshold)) return NULL;
    PyObject *result = NULL;
    if (rows.len % 32 || queries.len % 32) {
        PyErr_SetString(PyExc_ValueError, "hamming_scan: rows and queries are 32-byte hashes (4 uint64 words)");
        goto done;
    }
    size_t n = (size_t)rows.len / 32, q = (size_t)queries.len / 32;
    Found *found = calloc(q ? q : 1, sizeof(Found));
    if (!found) { PyErr_NoMemory(); goto done; }
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = scan_rows(rows.buf, n, queries.buf, q, threshold, found);
    Py_END_ALLOW_THREADS
    size_t total = 0;
    for (size_t j = 0; j < q; j++) total += found[j].count;
    if (failed) {
        PyErr_NoMemory();
    } else if ((result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(total * 3 * sizeof(int64_t))))) {
        int64_t *out = (int64_t *)PyBytes_AS_STRING(result);
        for (size_t j = 0; j < q; j++)
            for (size_t k = 0; k < found[j].count; k++) {
                *out++ = (int64_t)j, *out++ = found[j].pairs[2 * k], *out++ = found[j].pairs[2 * k + 1];
            }
    }
    for (size_t j = 0; j < q; j++) free(found[j].pairs);
    free(found);
done:
    PyBuffer_Release(&rows), PyBuffer_Release(&queries);
    return result;
}

/* PDQ's sampling band along an axis of n pixels (fast_pdq._sampling_band, which documents the maths):
 * each of the 64 samples' first pixel and its weights on the pixels from there, two Jarosz box-filter
 * passes folded into one row of weights. In C because the robustness views' windows have sizes of their
 * own, so most of a picture's bands are new sizes: numpy took about 0.17 ms a band in many small array
 * operations. The same double operations in the same order as the numpy version it replaces
 * (tests/signals/test_fast_pdq.py holds them equal, bit for bit, for every size up to 4,100 and more):
 * a share is (1 / window) / count, the running sums are added left to right, a weight is the difference
 * of two running sums, and the weights are rounded to float32 once, at the end. */
static inline Py_ssize_t clamp(Py_ssize_t value, Py_ssize_t low, Py_ssize_t high) {
    return value < low ? low : value > high ? high : value;
}

typedef struct {
    Py_ssize_t n, window, half, span;
    Py_ssize_t first[GRID], last[GRID];
    double *sums; /* GRID x span running sums of each sample's shares */
} Sampling;

/* The running sum of sample k's shares over its first-pass window's pixels [first, stop). */
static inline double running(const Sampling *s, int k, Py_ssize_t stop) {
    if (stop <= s->first[k]) return 0.0;
    return s->sums[k * s->span + clamp(stop - s->first[k] - 1, 0, s->span - 1)];
}

/* Sample k's weight on pixel index. */
static inline double band_weight(const Sampling *s, int k, Py_ssize_t index) {
    const Py_ssize_t lead = s->window - s->half;
    return running(s, k, index + lead + 1 < s->n ? index + lead + 1 : s->n) -
           running(s, k, index - s->half + 1 > 0 ? index - s->half + 1 : 0);
}

static PyObject *sampling_band(PyObject *self, PyObject *args) {
    Sampling s;
    if (!PyArg_ParseTuple(args, "n", &s.n)) return NULL;
    if (s.n < 1 || s.n > (1 << 24)) {
        PyErr_Format(PyExc_ValueError, "sampling_band: a side of 1 to %d pixels expected, not %zd", 1 << 24, s.n);
        return NULL;
    }
    const Py_ssize_t n = s.n;
    s.window = (n + 2 * GRID - 1) / (2 * GRID);
    s.half = (s.window + 2) / 2;
    const Py_ssize_t lead = s.window - s.half;
    s.span = 0;
    for (int k = 0; k < GRID; k++) {
        const Py_ssize_t sample = (Py_ssize_t)(((double)k + 0.5) * (double)n / (double)GRID);
        s.first[k] = sample - lead > 0 ? sample - lead : 0;
        s.last[k] = sample + s.half < n ? sample + s.half : n;
        if (s.last[k] - s.first[k] > s.span) s.span = s.last[k] - s.first[k];
    }
    s.sums = PyMem_Malloc((size_t)GRID * s.span * sizeof(double));
    if (!s.sums) return PyErr_NoMemory();
    for (int k = 0; k < GRID; k++) {
        const double share = 1.0 / (double)(s.last[k] - s.first[k]);
        double sum = 0.0;
        for (Py_ssize_t j = 0; j < s.span; j++) {
            const Py_ssize_t inside = s.first[k] + j < n - 1 ? s.first[k] + j : n - 1;
            const Py_ssize_t from = inside - lead > 0 ? inside - lead : 0;
            const Py_ssize_t to = inside + s.half < n ? inside + s.half : n;
            sum += (j < s.last[k] - s.first[k] ? share : 0.0) / (double)(to - from);
            s.sums[k * s.span + j] = sum;
        }
    }
    /* Each sample's nonzero weights lie among the reach pixels from first - window - 2 (clamped). */
    const Py_ssize_t reach = s.span + 2 * s.window + 4;
    Py_ssize_t low[GRID], width = 0;
    for (int k = 0; k < GRID; k++) {
        Py_ssize_t first_on = -1, last_on = reach - 1;
        for (Py_ssize_t r = 0; r < reach; r++) {
            if (band_weight(&s, k, clamp(s.first[k] - s.window - 2 + r, 0, n - 1)) != 0.0) {
                if (first_on < 0) first_on = r;
                last_on = r;
            }
        }
        low[k] = clamp(s.first[k] - s.window - 2 + (first_on < 0 ? 0 : first_on), 0, n - 1);
        const Py_ssize_t high = clamp(s.first[k] - s.window - 2 + last_on, 0, n - 1);
        if (high + 1 - low[k] > width) width = high + 1 - low[k];
    }
    PyObject *starts = PyBytes_FromStringAndSize(NULL, GRID * sizeof(int32_t));
    PyObject *weights = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(GRID * width * sizeof(float)));
    if (starts && weights) {
        int32_t *start = (int32_t *)PyBytes_AS_STRING(starts);
        float *weight = (float *)PyBytes_AS_STRING(weights);
        for (int k = 0; k < GRID; k++) {
            start[k] = (int32_t)(low[k] < n - width ? low[k] : n - width);
            for (Py_ssize_t j = 0; j < width; j++) weight[k * width + j] = (float)band_weight(&s, k, start[k] + j);
        }
    }
    PyMem_Free(s.sums);
    if (!starts || !weights) {
        Py_XDECREF(starts), Py_XDECREF(weights);
        return NULL;
    }
    return Py_BuildValue("NNn", starts, weights, width);
}

/* The lookups of a multi-index segment (stanch.index.multi_index.MultiIndex): for each query, every
 * bucket within each chunk's probe radius, every row in those buckets checked with a full 256-bit
 * popcount, each (query, row) within threshold reported once (by the first chunk within its radius).
 * Why in C: numpy built a dozen arrays a lookup (the probe keys, the spans, the gathered rows), a cost
 * and an allocation per lookup larger than the popcounts; here a lookup allocates nothing but the
 * growth of the one result buffer, and the GIL is released, so two threads search on two cores.
 *
 * Layout (all C-contiguous): words n x 4 uint64; offsets m x (2^bits + 1) uint32; rows m x n uint32
 * (row numbers sorted by chunk value); masks uint32 flip masks fewest bits first; counts m int64, how
 * many of the masks chunk c probes (0: not probed). Every row number and offset is checked against n,
 * since these arrays may come from a snapshot file. */
static inline uint64_t chunk_of(const uint64_t *w, int c, int bits) {
    const int first = c * bits, word = first / 64, shift = first % 64;
    uint64_t value = w[word] >> shift;
    if (shift + bits > 64) value |= w[word + 1] << (64 - shift);
    return value & ((UINT64_C(1) << bits) - 1);
}

typedef struct { int64_t *items; size_t count, capacity; } Triples;

static int triples_add(Triples *t, int64_t q, int64_t row, int64_t distance) {
    if (t->count == t->capacity) {
        size_t capacity = t->capacity ? 2 * t->capacity : 256;
        int64_t *grown = realloc(t->items, capacity * 3 * sizeof(int64_t));
        if (!grown) return -1;
        t->items = grown, t->capacity = capacity;
    }
    int64_t *at = t->items + 3 * t->count++;
    at[0] = q, at[1] = row, at[2] = distance;
    return 0;
}

typedef struct {
    const uint64_t *words; const uint32_t *offsets, *rows, *masks; const int64_t *counts;
    size_t n, m, width; int bits, radius[64];
} Tables;

/* Scratch space of one call, reused by all its queries (grown, never shrunk): the probed buckets and the
 * gathered candidates, so a lookup allocates nothing. */
typedef struct { uint32_t *start, *end; uint8_t *chunk; size_t probes; uint32_t *rows; uint8_t *from; size_t candidates; } Scratch;

static int scratch_fit(Scratch *s, size_t probes, size_t candidates) {
    if (probes > s->probes) {
        uint32_t *start = realloc(s->start, probes * 4), *end = start ? realloc(s->end, probes * 4) : NULL;
        if (start) s->start = start;
        if (end) s->end = end;
        uint8_t *chunk = end ? realloc(s->chunk, probes) : NULL;
        if (!chunk) return -1;
        s->chunk = chunk, s->probes = probes;
    }
    if (candidates > s->candidates) {
        uint32_t *rows = realloc(s->rows, candidates * 4);
        if (rows) s->rows = rows;
        uint8_t *from = rows ? realloc(s->from, candidates) : NULL;
        if (!from) return -1;
        s->from = from, s->candidates = candidates;
    }
    return 0;
}

#define AHEAD 16 /* loads requested this many steps before they are used: the misses overlap */

/* 0 ok, -1 out of memory, -2 a row or offset outside the segment. Three passes a query, each a loop
 * of independent loads with prefetches ahead: the buckets' offsets, the buckets' row numbers, the
 * candidates' rows (at 10M rows each is a cache miss; one after another they would wait in turn). */
POPCNT_CLONES
static int probe_queries(const Tables *t, const uint64_t *queries, size_t q, int threshold, int64_t scan_above,
                         int64_t *totals, Triples *out) {
    uint64_t keys[64];
    size_t probes = 0;
    for (size_t c = 0; c < t->m; c++) probes += (size_t)t->counts[c];
    Scratch s = {0};
    int status = scratch_fit(&s, probes ? probes : 1, 1024);
    for (size_t j = 0; j < q && status == 0; j++) {
        const uint64_t *b = queries + 4 * j;
        size_t p = 0;
        for (size_t c = 0; c < t->m; c++) {
            keys[c] = chunk_of(b, (int)c, t->bits);
            for (int64_t k = 0; k < t->counts[c]; k++, p++) {
                s.start[p] = (uint32_t)(keys[c] ^ t->masks[k]); /* the bucket's value, for now */
                s.chunk[p] = (uint8_t)c;
                __builtin_prefetch(t->offsets + c * t->width + s.start[p]);
            }
        }
        int64_t total = 0;
        for (p = 0; p < probes; p++) {
            const uint32_t *off = t->offsets + s.chunk[p] * t->width + s.start[p];
            s.start[p] = off[0], s.end[p] = off[1];
            total += (int64_t)s.end[p] - (int64_t)s.start[p];
        }
        totals[j] = total;
        if (scan_above < 0 || total > scan_above) continue;
        if (scratch_fit(&s, probes, (size_t)total) < 0) { status = -1; break; }
        size_t n = 0;
        for (p = 0; p < probes; p++) {
            if (p + AHEAD < probes) __builtin_prefetch(t->rows + s.chunk[p + AHEAD] * t->n + s.start[p + AHEAD]);
            if (s.end[p] > t->n || s.start[p] > s.end[p]) { status = -2; break; }
            const uint32_t *rows = t->rows + s.chunk[p] * t->n;
            for (uint32_t r = s.start[p]; r < s.end[p]; r++) {
                if (rows[r] >= t->n) { status = -2; break; }
                __builtin_prefetch(t->words + 4 * (size_t)rows[r]);
                s.rows[n] = rows[r], s.from[n++] = s.chunk[p];
            }
            if (status) break;
        }
        for (size_t i = 0; i < n && status == 0; i++) {
            const uint64_t *a = t->words + 4 * (size_t)s.rows[i];
            const uint64_t x[4] = {a[0] ^ b[0], a[1] ^ b[1], a[2] ^ b[2], a[3] ^ b[3]};
            const int d = __builtin_popcountll(x[0]) + __builtin_popcountll(x[1]) + __builtin_popcountll(x[2]) +
                          __builtin_popcountll(x[3]);
            if (d > threshold) continue;
            int earlier = 0; /* found already through an earlier chunk within its radius? */
            for (size_t e = 0; e < s.from[i] && !earlier; e++)
                earlier = t->counts[e] > 0 && __builtin_popcountll(chunk_of(x, (int)e, t->bits)) <= t->radius[e];
            if (!earlier && triples_add(out, (int64_t)j, s.rows[i], d) < 0) status = -1;
        }
    }
    free(s.start), free(s.end), free(s.chunk), free(s.rows), free(s.from);
    return status;
}

static PyObject *multi_index_probe(PyObject *self, PyObject *args) {
    Py_buffer words, offsets, rows, masks, counts, queries;
    int bits, threshold;
    long long scan_above;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*iy*iL", &words, &offsets, &rows, &masks, &counts, &bits, &queries,
                          &threshold, &scan_above))
        return NULL;
    PyObject *result = NULL;
    Tables t = {0};
    t.n = (size_t)words.len / 32, t.m = (size_t)counts.len / 8, t.bits = bits;
    t.width = bits >= 1 && bits <= 32 ? ((size_t)1 << bits) + 1 : 0;
    const size_t q = (size_t)queries.len / 32, mask_count = (size_t)masks.len / 4;
    int ok = words.len % 32 == 0 && queries.len % 32 == 0 && counts.len % 8 == 0 && masks.len % 4 == 0 &&
             t.width && t.m >= 1 && t.m <= 64 && t.m * (size_t)bits <= 256 &&
             (size_t)offsets.len == t.m * t.width * 4 && (size_t)rows.len == t.m * t.n * 4;
    t.words = words.buf, t.offsets = offsets.buf, t.rows = rows.buf, t.masks = masks.buf, t.counts = counts.buf;
    for (size_t c = 0; ok && c < t.m; c++) {
        ok = t.counts[c] >= 0 && (size_t)t.counts[c] <= mask_count;
        int radius = -1;
        for (int64_t k = 0; ok && k < t.counts[c]; k++) {
            ok = t.masks[k] < ((uint64_t)1 << bits);
            if (__builtin_popcount(t.masks[k]) > radius) radius = __builtin_popcount(t.masks[k]);
        }
        t.radius[c] = radius;
    }
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "multi_index_probe: arrays of the wrong size for their chunk layout");
        goto done;
    }
    int64_t *totals = malloc((q ? q : 1) * sizeof(int64_t));
    if (!totals) { PyErr_NoMemory(); goto done; }
    Triples out = {0};
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = probe_queries(&t, queries.buf, q, threshold, (int64_t)scan_above, totals, &out);
    Py_END_ALLOW_THREADS
    if (failed == -1) PyErr_NoMemory();
    else if (failed == -2) PyErr_SetString(PyExc_ValueError, "multi_index_probe: a chunk table points outside its segment (a damaged snapshot?)");
    else
        result = Py_BuildValue("y#y#", out.items ? (const char *)out.items : "", (Py_ssize_t)(out.count * 3 * sizeof(int64_t)),
                               (const char *)totals, (Py_ssize_t)(q * sizeof(int64_t))); /* y# of NULL gives None */
    free(out.items), free(totals);
done:
    PyBuffer_Release(&words), PyBuffer_Release(&offsets), PyBuffer_Release(&rows);
    PyBuffer_Release(&masks), PyBuffer_Release(&counts), PyBuffer_Release(&queries);
    return result;
}

static PyMethodDef methods[] = {
    {"multi_index_probe", multi_index_probe, METH_VARARGS,
     "multi_index_probe(words, offsets, rows, masks, counts, bits, queries, threshold, scan_above):\n"
     "(triples, totals): every (query, row, distance) within threshold found through the chunk tables,\n"
     "each once, as bytes of int64 triples by query; and each query's candidate count (int64 bytes).\n"
     "Queries with more than scan_above candidates (all when it is negative) are only counted."},
    {"hamming_scan", hamming_scan, METH_VARARGS,
     "hamming_scan(rows, queries, threshold): every (query, row, distance) with distance <= threshold\n"
     "between C-contiguous 32-byte hashes, by query then row, as bytes of int64 triples."},
    {"leading_shares", leading_shares, METH_VARARGS,
     "leading_shares(lines, tolerance, minimum): the share of each leading line's pixels within\n"
     "tolerance of the first line's median, for as long as it is at least minimum (a list of floats)."},
    {"peaks", peaks, METH_VARARGS,
     "peaks(profile, smoothing): the local maxima of a smoothed float32 profile, strongest first: their\n"
     "indices and their positions between pixels (two lists)."},
    {"edge_profile", edge_profile, METH_VARARGS,
     "edge_profile(plane, out): the mean absolute step to the next column, over sampled rows, into out."},
    {"sampling_band", sampling_band, METH_VARARGS,
     "sampling_band(n): PDQ's two box-filter passes along an axis of n pixels, sampled at its 64 grid\n"
     "positions: (starts, weights, width), 64 int32 first pixels and 64 x width float32 weights as bytes."},
    {"luma_rgb", luma_rgb, METH_VARARGS,
     "luma_rgb(rgb, out): PDQ's float32 luma of C-contiguous uint8 RGB pixels into out, computed as\n"
     "pdqhash computes it and the same way on every CPU."},
    {"sample_grids", sample_grids, METH_VARARGS,
     "sample_grids(plane, row_starts, row_weights, columns, out): PDQ's 64x64 grids of windows of a 2-D\n"
     "uint8 or float32 plane (any strides) that span all its rows, into out (n x 64 x 64 float32):\n"
     "out[n][i][k] = sum over the row band of sample i and column band n of sample k of row weight x\n"
     "column weight x pixel. A band: (64,) int32 starts and (64, width) float32 weights; columns holds n\n"
     "(starts, weights, offset) with the window's first column. Returns the n PDQ qualities (0-100)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", "The hot loops of hashing, in C.", -1, methods};

PyMODINIT_FUNC PyInit__kernels(void) {
#if X86_VECTORS
    __builtin_cpu_init();
    has_avx2 = __builtin_cpu_supports("avx2");
#endif
    return PyModule_Create(&module);
}
