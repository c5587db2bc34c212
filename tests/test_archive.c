/* test_archive.c - nearest neighbours and the dimensionless MAP-Elites rule. */
#include "core/util.h"
#include "harness.h"
#include "search/archive.h"

static void add(Archive *a, int64_t id, float x, float y, double q)
{
    ArchiveEntry e = {0};
    e.id = id;
    e.name = xasprintf("p%lld", (long long)id);
    e.embedding = xmalloc(2 * sizeof(float));
    e.embedding[0] = x;
    e.embedding[1] = y;
    e.dim = 2;
    e.quality = q;
    archive_add(a, &e);
}

static void test_distance(void)
{
    float a[2] = {1, 0}, b[2] = {0, 1}, c[2] = {-2, 0}, z[2] = {0, 0};
    CHECK_NEAR(archive_distance(a, a, 2), 0, 1e-12);
    CHECK_NEAR(archive_distance(a, b, 2), 1, 1e-12);
    CHECK_NEAR(archive_distance(a, c, 2), 2, 1e-12);
    CHECK_NEAR(archive_distance(a, z, 2), 1, 0);
}

static void test_nearest_and_knn(void)
{
    Archive ar;
    archive_init(&ar, 1);
    double d;
    float q[2] = {1, 0.1f};
    CHECK_INT(archive_nearest(&ar, q, 2, &d), -1);
    add(&ar, 10, 0, 1, 0.5);
    add(&ar, 11, 1, 0, 0.2);
    add(&ar, 12, 1, 1, 0.9);
    add(&ar, 13, -1, 0, NAN);
    CHECK_INT(archive_nearest(&ar, q, 2, &d), 1);
    int out[4];
    int m = archive_knn(&ar, q, 2, 3, -1, out);
    CHECK_INT(m, 3);
    CHECK_INT(out[0], 1);
    CHECK_INT(out[1], 2);
    CHECK_INT(out[2], 0);
    m = archive_knn(&ar, q, 2, 3, 1, out);
    CHECK_INT(out[0], 2);
    CHECK_INT(archive_best(&ar), 2);
    CHECK_INT(archive_find(&ar, 13), 3);
    archive_remove(&ar, 0);
    CHECK_INT(ar.n, 3);
    CHECK_INT(archive_find(&ar, 13), 2);
    CHECK_INT(archive_find(&ar, 10), -1);
    archive_release(&ar);
}

static void test_qd_rule(void)
{
    Archive ar;
    archive_init(&ar, 2);
    float e1[2] = {1, 0};
    int nb;
    double d;
    CHECK(archive_qd_decide(&ar, e1, 2, 0.1, 0.05, &nb, &d) == QD_INSERT); /* empty */
    add(&ar, 1, 1, 0, 0.5);
    float near[2] = {1, 0.01f}, far[2] = {0, 1};
    CHECK(archive_qd_decide(&ar, far, 2, 0.0, 0.05, &nb, &d) == QD_INSERT); /* novel, any quality */
    CHECK(archive_qd_decide(&ar, near, 2, 0.6, 0.05, &nb, &d) == QD_REPLACE);
    CHECK_INT(nb, 0);
    CHECK(archive_qd_decide(&ar, near, 2, 0.5, 0.05, &nb, &d) == QD_REJECT); /* ties keep the elite */
    CHECK(archive_qd_decide(&ar, near, 2, 0.4, 0.05, &nb, &d) == QD_REJECT);
    CHECK(archive_qd_decide(&ar, near, 2, NAN, 0.05, &nb, &d) == QD_REJECT);
    archive_release(&ar);
}

int main(void)
{
    RUN(test_distance);
    RUN(test_nearest_and_knn);
    RUN(test_qd_rule);
    return harness_done("test_archive");
}
