/* pages_credential: credential download, offer QR code and link. */
#include "login/pages_credential.h"
#include "common/codec.h"
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

void pages_qr_svg(struct html *h, const char *text, const char *label)
{
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    if (!q)
        return;
    int w = q->width, m = 4;   /* the quiet zone of 4 modules */
    html_rawf(h, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"offer-qr\" role=\"img\" viewBox=\"0 0 %d %d\" "
                 "width=\"%d\" height=\"%d\" style=\"max-width:100%%;height:auto;background:#fff\" "
                 "shape-rendering=\"crispEdges\"><title>", w + 2 * m, w + 2 * m, 4 * (w + 2 * m), 4 * (w + 2 * m));
    html_text(h, label);
    html_raw(h, "</title><path fill=\"#000\" d=\"");
    for (int y = 0; y < w; y++)
        for (int x = 0; x < w; x++)
            if (q->data[y * w + x] & 1)
                html_rawf(h, "M%d %dh1v1h-1z", x + m, y + m);
    html_raw(h, "\"/></svg>");
    QRcode_free(q);
}

void pages_credential(struct html *h, const struct page_info *pi)
{
    if (!pi->credential && !pi->credential_offer)
        return;
    html_raw(h, "<h2>Your result as a credential</h2>");
    if (pi->credential) {
        char *b64 = codec_b64_encode_alloc((const uint8_t *)pi->credential, strlen(pi->credential));
        html_raw(h, "<p><a class=\"download\" id=\"download-sd-jwt\" download=\"sealed-login-result.sd-jwt\" "
                    "href=\"data:application/dc+sd-jwt;base64,");
        html_text(h, b64 ? b64 : "");
        html_raw(h, "\">Download credential</a> (sealed-login-result.sd-jwt): the same result as an SD-JWT "
                    "verifiable credential (RFC 9901, SD-JWT VC). Your name, e-mail, account status and address "
                    "are in it as selectively disclosable claims: when you show it to someone you choose which to "
                    "reveal. Check it with <code>sealed-verify sd-jwt sealed-login-result.sd-jwt --result "
                    "sealed-login-result.jws</code>.</p>");
        free(b64);
    }
    if (pi->credential_offer) {
        html_raw(h, "<div id=\"credential-offer\"><p>Or put it in your wallet (OpenID for Verifiable Credential "
                    "Issuance 1.0): scan this code with the wallet app, or open the link on this device. The offer "
                    "works once, for one wallet, within 10 minutes; the wallet's credential is bound to a key only "
                    "the wallet holds.</p>");
        pages_qr_svg(h, pi->credential_offer, "QR code of the credential offer for your wallet");
        html_raw(h, "<p><a id=\"offer-link\" href=\"");
        html_text(h, pi->credential_offer);
        html_raw(h, "\">Open the credential offer in your wallet</a></p></div>");
    }
}

void pages_credential_link(struct html *h, const char *code)
{
    html_raw(h, " · <a download=\"sealed-login-result.sd-jwt\" href=\"/result?format=sd-jwt&amp;code=");
    html_text(h, code);
    html_raw(h, "\">as a credential (SD-JWT VC)</a>");
}
