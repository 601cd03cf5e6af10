/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The redundant pair (gateway.ha): the ports the ruleset opens on the
 * sync link, and sanso's own replication between the two nodes
 * (src/ha.c): learned FQDN addresses and the live table's digest, one
 * HMAC-SHA-256 authenticated datagram each, under STATE/ha.key.
 */
#ifndef SANSO_HA_H
#define SANSO_HA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* conntrackd's FTFW sync over UDP (contrib/ha/conntrackd.conf). */
#define HA_CONNTRACKD_PORT	3780
/* sanso's replication: the guard's learned addresses, the table digest. */
#define HA_SANSO_PORT		3781
/* VRRP: IP protocol 112, to this group (v2/v3) or ff02::12. */
#define HA_VRRP_PROTO		112

#endif
