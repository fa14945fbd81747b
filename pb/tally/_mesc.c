/*
 * pb.tally._mesc: the add1 inner loop of the Method of Equal Shares, compiled.
 *
 * One object, Problem, holds an election's MES data in flat arrays (built by
 * pb.tally.mes.MESProblem). Its one method, run_cost(bf, eps_b), is a line-for-line
 * translation of MESProblem.run_cost's lean float loop (read that docstring first): the same
 * float prices, the same margins (TOL = 1e-9), the same heap order (price, tie-break rank,
 * index) and the same exact settlement of near ties (here with 128-bit integers instead of
 * fractions.Fraction). Wherever the Python loop would hand over to the exact engine
 * (MESProblem.run), this returns -1 and the caller does just that. So this module never makes
 * a decision that the pure Python engine would not make; it only makes the same ones faster.
 *
 * VERSION (below, and _MESC_VERSION in mes.py) goes up with every change to this file, so a
 * build left over from an older source is noticed and not used.
 *
 * Built by setuptools as an optional extension (see pyproject.toml); without a C compiler
 * pb.tally runs the pure Python engine, with the same outcomes. Compiled with
 * -ffp-contract=off so that a*b+c stays two roundings, as in Python.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VERSION 5
#define TOL 1e-9
#define HANDOVER (-1)

typedef __int128 i128;

typedef struct {
    double key;
    int64_t rank;
    int64_t j;
} Item;

typedef struct {
    PyObject_HEAD
    int64_t G, m, nheap0, max_supp;
    /* per project j: supporters supp_idx[supp_ptr[j] .. supp_ptr[j+1]) with, per entry,
       float utility uf, integer utility ui, float weight wsf and weight x utility wuf */
    int64_t *supp_ptr, *supp_idx, *ui;
    double *uf, *wsf, *wuf;
    int64_t *w;                               /* per group: number of voters */
    int64_t *costs, *utot, *rank;             /* per project */
    double *costf, *utotf, *wsum;             /* per project */
    int64_t *ov_ptr, *ov_idx;                 /* projects sharing a supporter with j */
    double *heap0_key;                        /* the initial heap, sorted */
    int64_t *heap0_j;
    /* scratch */
    double *bud, *budgets, *ratio, *cache;
    char *dirty, *sure_zero;
    int64_t *poor, *rest, *near;
    Item *heap, *fresh;
    /* for replay (built on its first call): per group, the projects it supports */
    int64_t *row_ptr, *row_idx;
    char *alive, *cls;
    double *bud2, *bud_lo, *alpha, *beta;
    double *totals, *margin;
    double estimate; /* after a failed proof: the length the coupled bound would prove, or
                        -1 where it tells nothing */
    double later;    /* after a failed proof: how far from lo the failed bound would hold */
    int ready; /* set once __init__ has checked everything and allocated the scratch */
    int rows_ready; /* set once build_rows has allocated replay's scratch */
} Problem;

static int item_less(const Item *a, const Item *b) {
    if (a->key != b->key) return a->key < b->key;
    if (a->rank != b->rank) return a->rank < b->rank;
    return a->j < b->j;
}

static void heap_push(Item *heap, int64_t *n, Item item) {
    int64_t i = (*n)++;
    while (i > 0) {
        int64_t parent = (i - 1) / 2;
        if (!item_less(&item, &heap[parent])) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = item;
}

static Item heap_pop(Item *heap, int64_t *n) {
    Item top = heap[0];
    Item last = heap[--(*n)];
    int64_t size = *n, i = 0;
    for (;;) {
        int64_t child = 2 * i + 1;
        if (child >= size) break;
        if (child + 1 < size && item_less(&heap[child + 1], &heap[child])) child++;
        if (!item_less(&heap[child], &last)) break;
        heap[i] = heap[child];
        i = child;
    }
    if (size > 0) heap[i] = last;
    return top;
}

/* The float price of project j at budgets bud (MESProblem._eval / run_cost's loop).
   Returns 1 with *level set, 0 if surely unaffordable, HANDOVER if too close to call. */
static int price(Problem *p, int64_t j, double eps_b, double *level_out) {
    const int64_t s0 = p->supp_ptr[j], n = p->supp_ptr[j + 1] - s0;
    const int64_t *idx = p->supp_idx + s0;
    const double *uf = p->uf + s0, *wsf = p->wsf + s0, *wuf = p->wuf + s0;
    double *budgets = p->budgets, *ratio = p->ratio;
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double b = p->bud[idx[i]];
        budgets[i] = b;
        total += wsf[i] * b;
    }
    const double c = p->costf[j];
    const double margin = TOL * c + eps_b * p->wsum[j];
    if (total < c - margin) return 0;
    if (total <= c + margin) return HANDOVER;
    const double utot = p->utotf[j];
    double level = c / utot;
    double min_ratio = INFINITY, max_ratio = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double r = budgets[i] / uf[i];
        ratio[i] = r;
        if (r < min_ratio) min_ratio = r;
        if (r > max_ratio) max_ratio = r;
    }
    if (level > min_ratio) {
        /* Supporters who pay all they have: the set only grows, the level only rises. The
           poor are kept in the order the Python loop appends them (by index within each pass)
           and their sums run on as they grow: adding the newcomers to the running sums is the
           same left-to-right sum the Python loop recomputes, bit for bit. The others wait in
           `rest`, in index order, so each pass scans only them. */
        int64_t *poor = p->poor, *rest = p->rest, npoor = 0, nrest = 0, counted = 0;
        for (int64_t i = 0; i < n; i++) {
            if (ratio[i] < level)
                poor[npoor++] = i;
            else
                rest[nrest++] = i;
        }
        double poor_u = 0.0, poor_b = 0.0;
        for (;;) {
            for (; counted < npoor; counted++) {
                int64_t k = poor[counted];
                poor_u += wuf[k];
                poor_b += wsf[k] * budgets[k];
            }
            double rich_u = utot - poor_u;
            if (rich_u <= 0) {
                level = max_ratio;
                break;
            }
            level = (c - poor_b) / rich_u;
            int64_t kept = 0;
            for (int64_t r = 0; r < nrest; r++) {
                int64_t i = rest[r];
                if (ratio[i] < level)
                    poor[npoor++] = i;
                else
                    rest[kept++] = i;
            }
            if (kept == nrest) break;
            nrest = kept;
        }
    }
    *level_out = level;
    return 1;
}

/* The exact price of a near-tied project as cost / (utot - paying), when every supporter
   who pays less than the equal share surely has nothing left (MESProblem._quick_price).
   Returns 1 with *den set, or HANDOVER. */
static int quick_denominator(Problem *p, int64_t j, double eps_b, i128 *den) {
    const int64_t s0 = p->supp_ptr[j], n = p->supp_ptr[j + 1] - s0;
    const double rho = p->cache[j];
    i128 paying = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t g = p->supp_idx[s0 + i];
        double share = rho * p->uf[s0 + i];
        double d = p->bud[g] - share;
        double m_g = TOL * share + eps_b;
        if (d < -m_g) {
            if (!p->sure_zero[g]) return HANDOVER;
            paying += (i128)p->w[g] * (i128)p->ui[s0 + i];
        } else if (d <= m_g) {
            return HANDOVER;
        }
    }
    *den = (i128)p->utot[j] - paying;
    return *den > 0 ? 1 : HANDOVER;
}

/* MES's total cost at start bf; with winners, the winners in order go there (*nwin of them).
   HANDOVER where the exact engine must decide. */
static int64_t run_cost(Problem *p, double bf, double eps_b, int64_t *winners, int64_t *nwin) {
    const double close = 1 + TOL;
    int64_t nheap = 0;
    i128 cost = 0; /* the sum of funded costs; handed over if it leaves int64 */
    for (int64_t g = 0; g < p->G; g++) {
        p->bud[g] = bf;
        p->sure_zero[g] = 0;
    }
    for (int64_t j = 0; j < p->m; j++) p->dirty[j] = 1;
    /* MESProblem._start_heap: the sorted initial heap without the surely unaffordable. */
    for (int64_t i = 0; i < p->nheap0; i++) {
        int64_t j = p->heap0_j[i];
        double c = p->costf[j], ws = p->wsum[j];
        if (bf * ws >= c - 2 * (TOL * c + eps_b * ws)) {
            Item item = {p->heap0_key[i], p->rank[j], j};
            p->heap[nheap++] = item; /* sorted, hence a heap */
        }
    }
    while (nheap > 0) {
        int64_t nfresh = 0;
        double best = INFINITY;
        while (nheap > 0 && (nfresh == 0 || p->heap[0].key <= best * close)) {
            int64_t j = heap_pop(p->heap, &nheap).j;
            if (p->dirty[j]) {
                p->dirty[j] = 0;
                double level;
                int state = price(p, j, eps_b, &level);
                if (state == HANDOVER) return HANDOVER;
                if (state == 0) continue; /* unaffordable now, hence for the rest of the run */
                p->cache[j] = level;
            }
            double rho = p->cache[j];
            Item item = {rho, p->rank[j], j};
            p->fresh[nfresh++] = item;
            if (rho < best) best = rho;
        }
        if (nfresh == 0) break;
        const double limit = best * close;
        int64_t nnear = 0;
        for (int64_t f = 0; f < nfresh; f++)
            if (p->fresh[f].key <= limit) p->near[nnear++] = p->fresh[f].j;
        if (nnear == 0) return HANDOVER; /* only with prices that are not numbers */
        int64_t winner = p->near[0];
        if (nnear > 1) {
            /* A near tie: the exact prices cost/den, compared by cross-multiplication (all
               factors are below 2**63, so the products fit in 128 bits), then rank. */
            i128 best_num = 0, best_den = 1;
            int64_t best_rank = 0;
            winner = -1;
            for (int64_t k = 0; k < nnear; k++) {
                int64_t j = p->near[k];
                i128 den;
                if (quick_denominator(p, j, eps_b, &den) == HANDOVER) return HANDOVER;
                if (den > (i128)INT64_MAX) return HANDOVER;
                i128 num = p->costs[j];
                int better;
                if (winner < 0) {
                    better = 1;
                } else {
                    i128 lhs = num * best_den, rhs = best_num * den;
                    better = lhs < rhs || (lhs == rhs && (p->rank[j] < best_rank ||
                                                          (p->rank[j] == best_rank && j < winner)));
                }
                if (better) {
                    best_num = num;
                    best_den = den;
                    best_rank = p->rank[j];
                    winner = j;
                }
            }
        }
        for (int64_t f = 0; f < nfresh; f++)
            if (p->fresh[f].j != winner) heap_push(p->heap, &nheap, p->fresh[f]);
        const double rho = p->cache[winner];
        const int64_t s0 = p->supp_ptr[winner], s1 = p->supp_ptr[winner + 1];
        for (int64_t i = s0; i < s1; i++) {
            int64_t g = p->supp_idx[i];
            double share = rho * p->uf[i];
            double b = p->bud[g];
            if (share < b) {
                p->bud[g] = b - share;
            } else {
                p->bud[g] = 0.0;
                if (b - share < -(TOL * share + eps_b)) p->sure_zero[g] = 1;
            }
        }
        for (int64_t k = p->ov_ptr[winner]; k < p->ov_ptr[winner + 1]; k++)
            p->dirty[p->ov_idx[k]] = 1;
        cost += p->costs[winner];
        if (cost > (i128)INT64_MAX) return HANDOVER;
        if (winners != NULL) winners[(*nwin)++] = winner;
    }
    return (int64_t)cost;
}

/* ------------------------------------------------------------------ add1 skipping: replay */

/* MESProblem's _replay (mes.py; read the comment above it first), in C: MES at start x with
   the winners funded[0..R) fixed, each round's price raised by a bound on its rounding error
   into rho_out. With lo (a replay at lo_start <= x, prices lo_rho), it is also the proof that
   MES funds the same winners at every start in [lo_start, x], checked round by round.
   Returns REPLAY_OK or REPLAY_FAILED (not proved, or a price too close to call in float).
   Only the soundness of a proof matters (a failed one means the steps are computed one by
   one); its sums run in another order than numpy's, far inside the 1e-6 margins. */
#define REPLAY_OK 1
#define REPLAY_FAILED 0
#define MARGIN 1e-6
/* Classifying a voter as surely rich or surely poor (mes._coupled) keeps this relative margin
   beside the engine's absolute one; the slopes of the price are widened by SLOPE_TOL. */
#define CLASS_TOL 1e-12
#define SLOPE_TOL 1e-9

static int build_rows(Problem *p) {
    const int64_t nnz = p->supp_ptr[p->m];
    void *earlier[] = {p->row_ptr, p->row_idx, p->alive, p->totals, p->margin, p->bud2,
                       p->bud_lo, p->alpha, p->beta, p->cls}; /* from a call that failed */
    for (size_t i = 0; i < sizeof(earlier) / sizeof(earlier[0]); i++) PyMem_Free(earlier[i]);
    p->row_ptr = PyMem_Calloc((size_t)(p->G + 1), sizeof(int64_t));
    p->row_idx = PyMem_Malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof(int64_t));
    p->alive = PyMem_Malloc((size_t)(p->m > 0 ? p->m : 1));
    p->totals = PyMem_Malloc((size_t)(p->m > 0 ? p->m : 1) * sizeof(double));
    p->margin = PyMem_Malloc((size_t)(p->m > 0 ? p->m : 1) * sizeof(double));
    p->bud2 = PyMem_Malloc((size_t)(p->G > 0 ? p->G : 1) * sizeof(double));
    p->bud_lo = PyMem_Malloc((size_t)(p->G > 0 ? p->G : 1) * sizeof(double));
    p->alpha = PyMem_Malloc((size_t)(p->G > 0 ? p->G : 1) * sizeof(double));
    p->beta = PyMem_Malloc((size_t)(p->G > 0 ? p->G : 1) * sizeof(double));
    p->cls = PyMem_Malloc((size_t)(p->max_supp > 0 ? p->max_supp : 1));
    int64_t *fill = PyMem_Calloc((size_t)(p->G + 1), sizeof(int64_t));
    if (!p->row_ptr || !p->row_idx || !p->alive || !p->totals || !p->margin || !p->bud2 ||
        !p->bud_lo || !p->alpha || !p->beta || !p->cls || !fill) {
        PyMem_Free(fill);
        PyErr_NoMemory();
        return -1;
    }
    for (int64_t i = 0; i < nnz; i++) p->row_ptr[p->supp_idx[i] + 1]++;
    for (int64_t g = 0; g < p->G; g++) p->row_ptr[g + 1] += p->row_ptr[g];
    for (int64_t j = 0; j < p->m; j++)
        for (int64_t i = p->supp_ptr[j]; i < p->supp_ptr[j + 1]; i++) {
            int64_t g = p->supp_idx[i];
            p->row_idx[p->row_ptr[g] + fill[g]++] = j;
        }
    PyMem_Free(fill);
    p->rows_ready = 1;
    return 0;
}

/* Fund w at the budgets p->bud (changed in place) in MES started at x (mes._pay): its price,
   raised by a bound on its rounding error, into *rho. With totals, each project's supporters'
   total budget p->totals follows. Returns 1, or 0 if the price is too close to call. */
static int pay(Problem *p, int64_t w, double x, int totals, double *rho) {
    const double eps_b = TOL * (x > 1.0 ? x : 1.0);
    double level;
    if (price(p, w, eps_b, &level) != 1) return 0;
    const int64_t s0 = p->supp_ptr[w], s1 = p->supp_ptr[w + 1];
    double rich_u = 0.0;
    for (int64_t i = s0; i < s1; i++)
        if (p->budgets[i - s0] >= level * p->uf[i]) rich_u += p->wuf[i];
    if (rich_u <= 0) return 0;
    for (int64_t i = s0; i < s1; i++) {
        const int64_t g = p->supp_idx[i];
        const double old = p->budgets[i - s0], d = old - level * p->uf[i];
        const double now = d > 0.0 ? d : 0.0;
        p->bud[g] = now;
        if (totals) {
            const double delta = (now - old) * p->wsf[i];
            for (int64_t k = p->row_ptr[g]; k < p->row_ptr[g + 1]; k++)
                p->totals[p->row_idx[k]] += delta;
        }
    }
    /* Rounding bound: the price is (cost - what the poor pay) / rich utility. */
    *rho = level * (1 + 1e-8) + 1e-9 * (p->costf[w] + x * p->wsum[w]) / rich_u;
    return 1;
}

/* mes._tie_lost: whether q loses round r to its winner w at every start from lo_start on, both
   keeping the equal share (every supporter of each has, before the round, at least that share
   at lo_start), compared exactly, then by rank. The budgets at lo_start go in p->bud2. */
static int tie_lost(Problem *p, const int64_t *funded, int64_t r, int64_t q, double lo_start) {
    const int64_t w = funded[r];
    double *up = p->bud;
    p->bud = p->bud2;
    for (int64_t g = 0; g < p->G; g++) p->bud[g] = lo_start;
    int lost = 1;
    for (int64_t e = 0; e < r && lost; e++) {
        double ignored;
        if (pay(p, funded[e], lo_start, 0, &ignored) != 1) lost = 0;
    }
    const int64_t both[2] = {q, w};
    for (int k = 0; k < 2 && lost; k++) {
        const int64_t j = both[k];
        const double equal = p->costf[j] / p->utotf[j];
        for (int64_t i = p->supp_ptr[j]; i < p->supp_ptr[j + 1]; i++) {
            const double share = equal * p->uf[i];
            if (!(p->bud[p->supp_idx[i]] >= share * (1 + MARGIN) + TOL * lo_start)) {
                lost = 0;
                break;
            }
        }
    }
    p->bud = up;
    if (!lost) return 0;
    i128 mine = (i128)p->costs[q] * p->utot[w], theirs = (i128)p->costs[w] * p->utot[q];
    return mine > theirs || (mine == theirs && p->rank[q] > p->rank[w]);
}

/* The coupled bound (mes._coupled; read the comment above it first): whether a rival q,
   paid at least its cost at the winner's price by the one-sided bound, is still short of it
   at every start in [lo_start + first, x] (span = x - lo_start) by the slopes. Reads the
   budgets at lo (p->bud_lo), the price at lo (rho, raised) and the slopes (p->beta, pi_lo).
   Returns 1 if proved, else 0 with *estimate set to the length (in start units from lo) the
   bound would prove, and *later to the distance from lo after which it would hold (where q
   is within the margin of its cost at lo, and falls behind). */
static int coupled(Problem *p, int64_t q, double rho, double pi_lo, double span, double first,
                   double eps, double need, double *estimate, double *later) {
    double phi = 0.0, slope_b = 0.0, rich_u = 0.0;
    for (int64_t i = p->supp_ptr[q]; i < p->supp_ptr[q + 1]; i++) {
        const int64_t g = p->supp_idx[i];
        const double b = p->bud_lo[g], s = rho * p->uf[i];
        phi += p->wsf[i] * (b < s ? b : s);
        if (b >= s * (1 + CLASS_TOL) + eps)
            rich_u += p->wuf[i];
        else
            slope_b += p->wsf[i] * p->beta[g];
    }
    const double sigma = slope_b - pi_lo * rich_u;
    if (phi + (sigma > 0 ? span : (first < span ? first : span)) * sigma < need) return 1;
    *estimate = (sigma > 0 && phi < need) ? (need - phi) / sigma : 0.0;
    *later = sigma < 0 ? (phi - need) / -sigma : 0.0;
    return 0;
}

static int replay(Problem *p, double x, const int64_t *funded, int64_t R, int have_lo,
                  double lo_start, double first, const double *lo_rho, const double *lo_after,
                  double *rho_out, double *after_out) {
    p->estimate = -1.0; /* none */
    p->later = 0.0;
    if (have_lo && !(x >= lo_start)) return REPLAY_FAILED;
    const double eps = TOL * (x > 1.0 ? x : 1.0), span = x - lo_start;
    for (int64_t g = 0; g < p->G; g++) p->bud[g] = x;
    if (have_lo)
        for (int64_t g = 0; g < p->G; g++) {
            p->bud_lo[g] = lo_start;
            p->alpha[g] = 1.0;
            p->beta[g] = 1.0;
        }
    for (int64_t j = 0; j < p->m; j++) {
        p->alive[j] = p->utotf[j] > 0;
        p->totals[j] = x * p->wsum[j];
        p->margin[j] = MARGIN * (p->costf[j] + x * p->wsum[j]);
    }
    int slopes = have_lo; /* the slopes are known (see mes._coupled) */
    int64_t offset = 0;
    for (int64_t r = 0; r < R; r++) {
        const int64_t w = funded[r];
        const int64_t s0 = p->supp_ptr[w], s1 = p->supp_ptr[w + 1];
        p->alive[w] = 0;
        /* w's price at x (mes._pay): the level, and the price raised and lowered by a bound
           on its rounding error. */
        double level;
        if (price(p, w, eps, &level) != 1) return REPLAY_FAILED;
        double rich_u = 0.0;
        for (int64_t i = s0; i < s1; i++)
            if (p->budgets[i - s0] >= level * p->uf[i]) rich_u += p->wuf[i];
        if (rich_u <= 0) return REPLAY_FAILED;
        const double bound = 1e-9 * (p->costf[w] + x * p->wsum[w]) / rich_u;
        rho_out[r] = level * (1 + 1e-8) + bound;
        const double level_low = level * (1 - 1e-8) - bound;
        double pi_lo = 0.0, pi_hi = 0.0;
        if (have_lo) {
            const double rho = lo_rho[r];
            char *cls = p->cls; /* per supporter of w: 1 surely rich at lo, 2 surely poor at
                                   x, 0 neither */
            if (slopes) {
                double rich_lo_u = 0.0, not_poor_u = 0.0, num_hi = 0.0, num_lo = 0.0;
                for (int64_t i = s0; i < s1; i++) {
                    const int64_t g = p->supp_idx[i];
                    const double u = p->uf[i];
                    char c = 0;
                    if (p->bud[g] <= level_low * u * (1 - CLASS_TOL) - eps) {
                        c = 2;
                        num_lo += p->wsf[i] * p->alpha[g];
                    } else {
                        not_poor_u += p->wuf[i];
                    }
                    if (p->bud_lo[g] >= rho * u * (1 + CLASS_TOL) + eps) {
                        if (c == 0) c = 1;
                        rich_lo_u += p->wuf[i];
                    } else {
                        num_hi += p->wsf[i] * p->beta[g];
                    }
                    cls[i - s0] = c;
                }
                if (rich_lo_u > 0) {
                    pi_hi = num_hi / rich_lo_u * (1 + SLOPE_TOL);
                    pi_lo = not_poor_u > 0 ? num_lo / not_poor_u * (1 - SLOPE_TOL) : 0.0;
                } else {
                    slopes = 0; /* no bound on how fast the price falls: one-sided from here */
                }
            }
            /* Every other project that could match w's price at some start in [lo, x]: not
               dearer at the equal share, not surely short with the budgets at x. */
            for (int64_t q = 0; q < p->m; q++) {
                const double need = p->costf[q] - p->margin[q];
                if (!p->alive[q] || !(rho * p->utotf[q] >= need) || !(p->totals[q] >= need))
                    continue;
                double fbar = 0.0;
                for (int64_t i = p->supp_ptr[q]; i < p->supp_ptr[q + 1]; i++) {
                    double b = p->bud[p->supp_idx[i]], s = rho * p->uf[i];
                    fbar += p->wsf[i] * (b < s ? b : s);
                }
                if (fbar < need) continue;
                double estimate = -1.0, later = 0.0;
                if (slopes &&
                    coupled(p, q, rho, pi_lo, span, first, eps, need, &estimate, &later))
                    continue;
                if (!tie_lost(p, funded, r, q, lo_start)) {
                    p->estimate = estimate;
                    p->later = later;
                    return REPLAY_FAILED;
                }
            }
        }
        /* Pay: the budgets at x (and the running totals), at lo (from lo_after), the slopes. */
        const char *cls = p->cls;
        for (int64_t i = s0; i < s1; i++) {
            const int64_t g = p->supp_idx[i];
            const double old = p->bud[g], d = old - level * p->uf[i];
            const double now = d > 0.0 ? d : 0.0;
            p->bud[g] = now;
            after_out[offset + i - s0] = now;
            const double delta = (now - old) * p->wsf[i];
            for (int64_t k = p->row_ptr[g]; k < p->row_ptr[g + 1]; k++)
                p->totals[p->row_idx[k]] += delta;
            if (have_lo) {
                p->bud_lo[g] = lo_after[offset + i - s0];
                if (slopes) {
                    const char c = cls[i - s0];
                    const double u = p->uf[i];
                    p->alpha[g] = c == 1 ? p->alpha[g] + pi_lo * u : 0.0;
                    p->beta[g] = c == 2 ? 0.0 : p->beta[g] + pi_hi * u;
                }
            }
        }
        offset += s1 - s0;
    }
    if (have_lo) {
        for (int64_t q = 0; q < p->m; q++) { /* sums afresh, not the running totals */
            if (!p->alive[q]) continue;
            double total = 0.0;
            for (int64_t i = p->supp_ptr[q]; i < p->supp_ptr[q + 1]; i++)
                total += p->wsf[i] * p->bud[p->supp_idx[i]];
            const double need = p->costf[q] - p->margin[q];
            if (!(total < need)) {
                if (slopes) { /* the length over which the slopes keep q short */
                    double at_lo = 0.0, slope = 0.0;
                    for (int64_t i = p->supp_ptr[q]; i < p->supp_ptr[q + 1]; i++) {
                        at_lo += p->wsf[i] * p->bud_lo[p->supp_idx[i]];
                        slope += p->wsf[i] * p->beta[p->supp_idx[i]];
                    }
                    p->estimate = slope > 0 && at_lo < need ? (need - at_lo) / slope : 0.0;
                }
                return REPLAY_FAILED;
            }
        }
    }
    return REPLAY_OK;
}

/* ------------------------------------------------------------------ the Python type */

static void *copy_buffer(PyObject *obj, Py_ssize_t count, Py_ssize_t itemsize, const char *what) {
    if (count < 0 || count > PY_SSIZE_T_MAX / itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: bad length", what);
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    if (view.len != count * itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd bytes, got %zd", what,
                     count * itemsize, view.len);
        PyBuffer_Release(&view);
        return NULL;
    }
    void *data = PyMem_Malloc(count > 0 ? (size_t)(count * itemsize) : 1);
    if (data == NULL) {
        PyBuffer_Release(&view);
        PyErr_NoMemory();
        return NULL;
    }
    if (count > 0) memcpy(data, view.buf, (size_t)(count * itemsize));
    PyBuffer_Release(&view);
    return data;
}

static void Problem_dealloc(Problem *self) {
    void *blocks[] = {self->supp_ptr, self->supp_idx, self->ui, self->uf, self->wsf,
                      self->wuf, self->w, self->costs, self->utot, self->rank, self->costf,
                      self->utotf, self->wsum, self->ov_ptr, self->ov_idx, self->heap0_key,
                      self->heap0_j, self->bud, self->budgets, self->ratio, self->cache,
                      self->dirty, self->sure_zero, self->rest, self->poor, self->near,
                      self->heap, self->fresh, self->row_ptr, self->row_idx,
                      self->alive, self->totals, self->margin, self->bud2,
                      self->bud_lo, self->alpha, self->beta, self->cls};
    for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) PyMem_Free(blocks[i]);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Problem_init(Problem *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"groups", "projects", "supp_ptr", "supp_idx", "ui", "uf", "wsf",
                             "wuf", "weights", "costs", "utot", "rank", "costf", "utotf",
                             "wsum", "ov_ptr", "ov_idx", "heap0_key", "heap0_j", NULL};
    Py_ssize_t G, m;
    PyObject *o[17];
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "nnOOOOOOOOOOOOOOOOO", kwlist, &G, &m, &o[0],
                                     &o[1], &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8],
                                     &o[9], &o[10], &o[11], &o[12], &o[13], &o[14], &o[15],
                                     &o[16]))
        return -1;
    if (self->supp_ptr != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Problem is already initialised");
        return -1;
    }
    if (G < 0 || m < 0 || m >= PY_SSIZE_T_MAX) {
        PyErr_SetString(PyExc_ValueError, "bad size");
        return -1;
    }
    const Py_ssize_t I = sizeof(int64_t), D = sizeof(double);
    self->G = G;
    self->m = m;
    if (!(self->supp_ptr = copy_buffer(o[0], m + 1, I, "supp_ptr"))) return -1;
    const Py_ssize_t nnz = (Py_ssize_t)self->supp_ptr[m];
    if (self->supp_ptr[m] < 0 || self->supp_ptr[m] > PY_SSIZE_T_MAX) {
        PyErr_SetString(PyExc_ValueError, "bad offsets");
        return -1;
    }
    if (!(self->supp_idx = copy_buffer(o[1], nnz, I, "supp_idx"))) return -1;
    if (!(self->ui = copy_buffer(o[2], nnz, I, "ui"))) return -1;
    if (!(self->uf = copy_buffer(o[3], nnz, D, "uf"))) return -1;
    if (!(self->wsf = copy_buffer(o[4], nnz, D, "wsf"))) return -1;
    if (!(self->wuf = copy_buffer(o[5], nnz, D, "wuf"))) return -1;
    if (!(self->w = copy_buffer(o[6], G, I, "weights"))) return -1;
    if (!(self->costs = copy_buffer(o[7], m, I, "costs"))) return -1;
    if (!(self->utot = copy_buffer(o[8], m, I, "utot"))) return -1;
    if (!(self->rank = copy_buffer(o[9], m, I, "rank"))) return -1;
    if (!(self->costf = copy_buffer(o[10], m, D, "costf"))) return -1;
    if (!(self->utotf = copy_buffer(o[11], m, D, "utotf"))) return -1;
    if (!(self->wsum = copy_buffer(o[12], m, D, "wsum"))) return -1;
    if (!(self->ov_ptr = copy_buffer(o[13], m + 1, I, "ov_ptr"))) return -1;
    if (self->ov_ptr[m] < 0 || self->ov_ptr[m] > PY_SSIZE_T_MAX) {
        PyErr_SetString(PyExc_ValueError, "bad overlap offsets");
        return -1;
    }
    if (!(self->ov_idx = copy_buffer(o[14], (Py_ssize_t)self->ov_ptr[m], I, "ov_idx")))
        return -1;
    Py_buffer view;
    if (PyObject_GetBuffer(o[15], &view, PyBUF_C_CONTIGUOUS) < 0) return -1;
    self->nheap0 = view.len / D;
    PyBuffer_Release(&view);
    if (self->nheap0 > m) { /* each project at most once: the heap holds at most m items */
        PyErr_SetString(PyExc_ValueError, "bad heap length");
        return -1;
    }
    if (!(self->heap0_key = copy_buffer(o[15], self->nheap0, D, "heap0_key"))) return -1;
    if (!(self->heap0_j = copy_buffer(o[16], self->nheap0, I, "heap0_j"))) return -1;
    /* Check every index before any run can use it. */
    int64_t max_supp = 0;
    for (Py_ssize_t j = 0; j < m; j++) {
        int64_t a = self->supp_ptr[j], b = self->supp_ptr[j + 1];
        int64_t oa = self->ov_ptr[j], ob = self->ov_ptr[j + 1];
        if (a < 0 || b < a || b > nnz || oa < 0 || ob < oa || ob > self->ov_ptr[m]) {
            PyErr_SetString(PyExc_ValueError, "bad offsets");
            return -1;
        }
        if (b - a > max_supp) max_supp = b - a;
        if (self->utot[j] <= 0 && b > a) {
            PyErr_SetString(PyExc_ValueError, "supported project without utility");
            return -1;
        }
        /* Costs and sums are numbers >= 0 (NaN fails every comparison, so test positively). */
        if (!(self->costs[j] >= 0 && self->costf[j] >= 0 && isfinite(self->costf[j]) &&
              self->utot[j] >= 0 && self->utotf[j] >= 0 && isfinite(self->utotf[j]) &&
              self->wsum[j] >= 0 && isfinite(self->wsum[j]))) {
            PyErr_SetString(PyExc_ValueError, "bad project values");
            return -1;
        }
    }
    for (Py_ssize_t g = 0; g < G; g++) {
        if (self->w[g] < 1) {
            PyErr_SetString(PyExc_ValueError, "bad group weight");
            return -1;
        }
    }
    for (Py_ssize_t i = 0; i < nnz; i++) {
        if (self->supp_idx[i] < 0 || self->supp_idx[i] >= G || self->ui[i] < 1 ||
            !(self->uf[i] > 0 && isfinite(self->uf[i])) ||
            !(self->wsf[i] > 0 && isfinite(self->wsf[i])) ||
            !(self->wuf[i] > 0 && isfinite(self->wuf[i]))) {
            PyErr_SetString(PyExc_ValueError, "bad supporter entry");
            return -1;
        }
    }
    for (int64_t i = 0; i < self->ov_ptr[m]; i++) {
        if (self->ov_idx[i] < 0 || self->ov_idx[i] >= m) {
            PyErr_SetString(PyExc_ValueError, "bad overlap entry");
            return -1;
        }
    }
    char *seen = PyMem_Calloc((size_t)(m > 0 ? m : 1), 1);
    if (seen == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (int64_t i = 0; i < self->nheap0; i++) {
        int64_t j = self->heap0_j[i];
        double key = self->heap0_key[i];
        int unsorted = 0;
        if (i > 0 && j >= 0 && j < m) { /* sorted by (key, rank, j), hence a heap */
            Item prev = {self->heap0_key[i - 1], self->rank[self->heap0_j[i - 1]],
                         self->heap0_j[i - 1]};
            Item here = {key, self->rank[j], j};
            unsorted = !item_less(&prev, &here);
        }
        if (j < 0 || j >= m || seen[j] || self->utot[j] <= 0 || !(key >= 0 && isfinite(key)) ||
            unsorted) {
            PyMem_Free(seen);
            PyErr_SetString(PyExc_ValueError, "bad heap entry");
            return -1;
        }
        seen[j] = 1;
    }
    PyMem_Free(seen);
    self->max_supp = max_supp;
    const size_t ns = (size_t)(max_supp > 0 ? max_supp : 1), nm = (size_t)(m > 0 ? m : 1);
    const size_t ng = (size_t)(G > 0 ? G : 1);
    self->bud = PyMem_Malloc(ng * sizeof(double));
    self->sure_zero = PyMem_Malloc(ng);
    self->budgets = PyMem_Malloc(ns * sizeof(double));
    self->ratio = PyMem_Malloc(ns * sizeof(double));
    self->rest = PyMem_Malloc(ns * sizeof(int64_t));
    self->poor = PyMem_Malloc(ns * sizeof(int64_t));
    self->cache = PyMem_Malloc(nm * sizeof(double));
    self->dirty = PyMem_Malloc(nm);
    self->near = PyMem_Malloc(nm * sizeof(int64_t));
    self->heap = PyMem_Malloc(nm * sizeof(Item));
    self->fresh = PyMem_Malloc(nm * sizeof(Item));
    if (!self->bud || !self->sure_zero || !self->budgets || !self->ratio || !self->rest ||
        !self->poor || !self->cache || !self->dirty || !self->near || !self->heap ||
        !self->fresh) {
        PyErr_NoMemory();
        return -1;
    }
    self->ready = 1;
    return 0;
}

/* The (start budget, tolerance) of run_cost and winners, checked; 0 with an exception set
   when they cannot be used. */
static int start_args(Problem *self, PyObject *args, double *bf, double *eps_b) {
    if (!PyArg_ParseTuple(args, "dd", bf, eps_b)) return 0;
    if (!self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "Problem is not initialised");
        return 0;
    }
    if (!(*bf >= 0) || !(*eps_b > 0) || isinf(*bf)) {
        PyErr_SetString(PyExc_ValueError, "bad start budget");
        return 0;
    }
    return 1;
}

static PyObject *Problem_run_cost(Problem *self, PyObject *args) {
    double bf, eps_b;
    if (!start_args(self, args, &bf, &eps_b)) return NULL;
    return PyLong_FromLongLong(run_cost(self, bf, eps_b, NULL, NULL));
}

static PyObject *Problem_winners(Problem *self, PyObject *args) {
    double bf, eps_b;
    if (!start_args(self, args, &bf, &eps_b)) return NULL;
    int64_t *winners = PyMem_Malloc((size_t)(self->m > 0 ? self->m : 1) * sizeof(int64_t));
    if (winners == NULL) return PyErr_NoMemory();
    int64_t n = 0;
    PyObject *result;
    if (run_cost(self, bf, eps_b, winners, &n) == HANDOVER) {
        result = PyLong_FromLong(HANDOVER);
    } else {
        result = PyList_New(n);
        for (int64_t k = 0; result != NULL && k < n; k++) {
            PyObject *j = PyLong_FromLongLong(winners[k]);
            if (j == NULL) {
                Py_CLEAR(result);
                break;
            }
            PyList_SET_ITEM(result, k, j);
        }
    }
    PyMem_Free(winners);
    return result;
}

static PyObject *Problem_replay(Problem *self, PyObject *args) {
    double x, lo_start, first;
    PyObject *funded_obj, *lo_obj, *lo_after_obj, *after_obj;
    if (!PyArg_ParseTuple(args, "dOddOOO", &x, &funded_obj, &lo_start, &first, &lo_obj,
                          &lo_after_obj, &after_obj))
        return NULL;
    if (!self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "Problem is not initialised");
        return NULL;
    }
    if (!(x >= 0) || isinf(x) || !(first >= 0)) {
        PyErr_SetString(PyExc_ValueError, "bad start budget");
        return NULL;
    }
    if (!self->rows_ready && build_rows(self) < 0) return NULL;
    Py_buffer fv;
    if (PyObject_GetBuffer(funded_obj, &fv, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    const int64_t R = fv.len / (Py_ssize_t)sizeof(int64_t);
    if (fv.len != R * (Py_ssize_t)sizeof(int64_t) || R > self->m) {
        PyBuffer_Release(&fv);
        PyErr_SetString(PyExc_ValueError, "funded: bad length");
        return NULL;
    }
    int64_t *funded = PyMem_Malloc((size_t)(R > 0 ? R : 1) * sizeof(int64_t));
    double *lo_rho = PyMem_Malloc((size_t)(R > 0 ? R : 1) * sizeof(double));
    double *rho = PyMem_Malloc((size_t)(R > 0 ? R : 1) * sizeof(double));
    if (!funded || !lo_rho || !rho) {
        PyBuffer_Release(&fv);
        PyMem_Free(funded);
        PyMem_Free(lo_rho);
        PyMem_Free(rho);
        return PyErr_NoMemory();
    }
    if (R > 0) memcpy(funded, fv.buf, (size_t)R * sizeof(int64_t));
    PyBuffer_Release(&fv);
    PyObject *result = NULL;
    double *lo_after = NULL;
    Py_buffer av = {0};
    /* Each funded project once, supported (as MES funds them). */
    memset(self->alive, 0, (size_t)(self->m > 0 ? self->m : 1));
    Py_ssize_t paid = 0; /* entries of after: the winners' supporters, round by round */
    for (int64_t r = 0; r < R; r++) {
        int64_t j = funded[r];
        if (j < 0 || j >= self->m || self->alive[j] || !(self->utotf[j] > 0)) {
            PyErr_SetString(PyExc_ValueError, "funded: bad project");
            goto done;
        }
        self->alive[j] = 1;
        paid += (Py_ssize_t)(self->supp_ptr[j + 1] - self->supp_ptr[j]);
    }
    if (PyObject_GetBuffer(after_obj, &av, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) goto done;
    if (av.len != paid * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "after: bad length");
        goto done;
    }
    int have_lo = lo_obj != Py_None;
    if (have_lo != (lo_after_obj != Py_None)) {
        PyErr_SetString(PyExc_ValueError, "lo_rho and lo_after: both or neither");
        goto done;
    }
    if (have_lo) {
        lo_after = copy_buffer(lo_after_obj, paid, sizeof(double), "lo_after");
        if (lo_after == NULL) goto done;
    }
    if (have_lo) {
        Py_buffer lv;
        if (PyObject_GetBuffer(lo_obj, &lv, PyBUF_C_CONTIGUOUS) < 0) goto done;
        if (lv.len != R * (Py_ssize_t)sizeof(double)) {
            PyBuffer_Release(&lv);
            PyErr_SetString(PyExc_ValueError, "lo_rho: bad length");
            goto done;
        }
        if (R > 0) memcpy(lo_rho, lv.buf, (size_t)R * sizeof(double));
        PyBuffer_Release(&lv);
    }
    int state = replay(self, x, funded, R, have_lo, lo_start, first, lo_rho, lo_after, rho,
                       (double *)av.buf);
    if (state == REPLAY_OK) {
        result = PyList_New(R);
        if (result == NULL) goto done;
        for (int64_t r = 0; r < R; r++) {
            PyObject *f = PyFloat_FromDouble(rho[r]);
            if (f == NULL) {
                Py_CLEAR(result);
                goto done;
            }
            PyList_SET_ITEM(result, r, f);
        }
    } else {
        result = Py_BuildValue("(dd)", self->estimate, self->later);
    }
done:
    if (av.obj != NULL) PyBuffer_Release(&av);
    PyMem_Free(lo_after);
    PyMem_Free(funded);
    PyMem_Free(lo_rho);
    PyMem_Free(rho);
    return result;
}

static PyMethodDef Problem_methods[] = {
    {"run_cost", (PyCFunction)Problem_run_cost, METH_VARARGS,
     "run_cost(bf, eps_b) -> total cost of MES at start budget bf, or -1 where the exact "
     "engine must decide"},
    {"winners", (PyCFunction)Problem_winners, METH_VARARGS,
     "winners(bf, eps_b) -> the projects MES funds at start budget bf, in order (as run_cost "
     "decides), or -1 where the exact engine must decide"},
    {"replay", (PyCFunction)Problem_replay, METH_VARARGS,
     "replay(x, funded, lo_start, first, lo_rho, lo_after, after) -> list of prices (raised by "
     "their "
     "rounding bound), the budgets after each round in after; or, if not proved (or too "
     "close to call), (length, later): the length the coupled bound would prove (-1.0 if it "
     "tells nothing) and the distance from lo after which it would hold; "
     "lo_rho and "
     "lo_after None for a plain replay (see mes._replay)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ProblemType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pb.tally._mesc.Problem",
    .tp_basicsize = sizeof(Problem),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "MES data of one election for the compiled add1 loop",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Problem_init,
    .tp_dealloc = (destructor)Problem_dealloc,
    .tp_methods = Problem_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_mesc",
    .m_doc = "The compiled add1 loop of pb.tally's equal shares.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__mesc(void) {
    if (PyType_Ready(&ProblemType) < 0) return NULL;
    PyObject *mod = PyModule_Create(&module);
    if (mod == NULL) return NULL;
    if (PyModule_AddIntConstant(mod, "VERSION", VERSION) < 0) {
        Py_DECREF(mod);
        return NULL;
    }
    Py_INCREF(&ProblemType);
    if (PyModule_AddObject(mod, "Problem", (PyObject *)&ProblemType) < 0) {
        Py_DECREF(&ProblemType);
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
