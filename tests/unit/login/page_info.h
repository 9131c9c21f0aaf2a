/* The page_info the unit tests of login/pages and login/pages_legal render with: a development
 * build on the local stand-in for PayPal, unmeasured, with a client id that must be escaped.
 * Test code only. */
#ifndef SEALED_TEST_PAGE_INFO_H
#define SEALED_TEST_PAGE_INFO_H
#include "login/pages.h"

static const struct page_info PI = {
    .dev_mode = 1, .paypal_env = "local", .domain = "localhost:8443", .measurement = NULL,
    .evidence_kind = "none", .hardware_attested = 0, .ephemeral_key = 1,
    .kid = "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U", .client_id = "cid<script>",
};

#endif
