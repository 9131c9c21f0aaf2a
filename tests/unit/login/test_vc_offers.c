/* login/vc_offers: redemption records load in order and fail closed (a REDEEM twice, an ISSUED
 * before its REDEEM, a bad length, two offers with one code), expired entries drop, one live offer
 * per account. (The credential section is tests/unit/login/test_pages_credential.c.) */
#include "test.h"
#include "login/vc_offers.h"
#include <string.h>

static struct vc_offer offer(uint8_t tag, uint64_t lo, uint64_t expires)
{
    struct vc_offer e;
    memset(&e, 0, sizeof e);
    memset(e.code_hash, tag, VC_HASH_LEN);
    memset(e.token_hash, tag ^ 0xff, VC_HASH_LEN);
    e.key.lo = lo;
    e.key.hi = 1;
    memcpy(e.result_code, "ABCDEFGHJK", RESULT_CODE_LEN);
    e.expires = expires;
    e.phase = VC_OFFERED;
    return e;
}

TEST(records_load_in_order_and_fail_closed)
{
    struct vc_offers *o = vc_offers_new();
    struct vc_offer a = offer(1, 7, 2000), b = offer(2, 8, 500);
    uint8_t rec[VC_OFFER_REC_LEN], red[VC_REDEEM_REC_LEN];
    vc_offer_record(&a, rec);
    CHECK(vc_offers_load(o, VC_REC_OFFER, rec, sizeof rec, 1000) == 0);
    CHECK(vc_offers_load(o, VC_REC_OFFER, rec, sizeof rec, 1000) == -1);        /* one offer per code */
    CHECK(vc_offers_load(o, VC_REC_OFFER, rec, sizeof rec - 1, 1000) == -1);
    vc_offer_record(&b, rec);
    CHECK(vc_offers_load(o, VC_REC_OFFER, rec, sizeof rec, 1000) == 0);         /* expired: dropped */
    CHECK(vc_offers_count(o) == 1);
    CHECK(vc_offers_load(o, VC_REC_ISSUED, a.code_hash, VC_HASH_LEN, 1000) == -1); /* issued before redeemed */
    a.expires = 1300;
    vc_redeem_record(&a, red);
    CHECK(vc_offers_load(o, VC_REC_REDEEM, red, sizeof red, 1000) == 0);
    CHECK(vc_offers_load(o, VC_REC_REDEEM, red, sizeof red, 1000) == -1);      /* redeemed twice */
    CHECK(vc_offers_load(o, VC_REC_ISSUED, a.code_hash, VC_HASH_LEN, 1000) == 0);
    CHECK(vc_offers_load(o, VC_REC_ISSUED, a.code_hash, VC_HASH_LEN, 1000) == -1);
    vc_redeem_record(&b, red);
    CHECK(vc_offers_load(o, VC_REC_REDEEM, red, sizeof red, 1000) == 0);       /* its offer expired: ignored */
    CHECK(vc_offers_load(o, 99, red, sizeof red, 1000) == -1);
    struct vc_offer *f = vc_offers_find(o, a.token_hash, 1, 1000);
    CHECK(f && f->phase == VC_ISSUED && f->expires == 1300);
    CHECK(!vc_offers_find(o, a.token_hash, 1, 1300));                          /* the token's time is up */
    CHECK(!vc_offers_find(o, a.code_hash, 1, 1000));                           /* a code is not a token */
    vc_offers_free(o);
}

TEST(one_live_offer_per_account)
{
    struct vc_offers *o = vc_offers_new();
    struct vc_offer a = offer(1, 7, 2000), c = offer(3, 7, 3000);
    CHECK(vc_offers_can_add(o, &a.key, 1000) && vc_offers_add(o, &a) == 0);
    CHECK(!vc_offers_can_add(o, &c.key, 1000));
    CHECK(vc_offers_can_add(o, &c.key, 2000));   /* the first has expired */
    CHECK(!vc_offers_find(o, a.token_hash, 1, 1000));   /* offered, not redeemed: no token yet */
    vc_offers_free(o);
}

int main(void)
{
    RUN(records_load_in_order_and_fail_closed);
    RUN(one_live_offer_per_account);
    return test_done();
}
