/* pages_credential: the result page's credential section (issue 14): the result as an SD-JWT VC
 * to download, and the OID4VCI credential offer as a QR code drawn here (libqrencode, inline SVG:
 * no script, no second request) and as an openid-credential-offer:// link. Pure rendering into a
 * struct html; the offer URI carries a pre-authorized code and is never logged. */
#ifndef SEALED_PAGES_CREDENTIAL_H
#define SEALED_PAGES_CREDENTIAL_H
#include "login/html.h"
#include "login/pages.h"

/* The section, from pi->credential and pi->credential_offer (either may be NULL). */
void pages_credential(struct html *h, const struct page_info *pi);
/* /result's list: the SD-JWT VC link next to a result's code. */
void pages_credential_link(struct html *h, const char *code);
/* The QR code of text as an inline <svg> (role img, labelled); nothing when it cannot be encoded. */
void pages_qr_svg(struct html *h, const char *text, const char *label);
#endif
