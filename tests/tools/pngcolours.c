// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pngcolours: prints "WIDTH HEIGHT COLOURS NONWHITE" for an 8-bit RGB or
 * RGBA PNG (what headless Chromium writes): the number of distinct
 * colours and the share of pixels, in per mille, that are not white.
 * tests/lab/test_report.sh uses it to tell a rendered page from a blank
 * one. Exit 1 when the file is not such a PNG.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

int main(int argc, char **argv)
{
	unsigned char *file, *idat = NULL, *raw, *prev, *first, *cur, *seen;
	size_t len, ni = 0, bpp, stride, colours = 0, nonwhite = 0;
	uint32_t w = 0, h = 0;
	uLongf rawlen;
	FILE *f;
	long sz;

	if (argc != 2 || !(f = fopen(argv[1], "rb")))
		return 1;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	file = malloc((size_t)sz);
	if (!file || fread(file, 1, (size_t)sz, f) != (size_t)sz)
		return 1;
	fclose(f);
	len = (size_t)sz;
	if (len < 33 || memcmp(file, "\x89PNG\r\n\x1a\n", 8))
		return 1;
	w = be32(file + 16);
	h = be32(file + 20);
	if (file[24] != 8 || (file[25] != 2 && file[25] != 6) || file[28])
		return 1;
	bpp = file[25] == 6 ? 4 : 3;
	idat = malloc(len);
	if (!idat)
		return 1;
	for (size_t p = 8; p + 12 <= len;) {
		uint32_t cl = be32(file + p);

		if (p + 12 + cl > len)
			return 1;
		if (!memcmp(file + p + 4, "IDAT", 4)) {
			memcpy(idat + ni, file + p + 8, cl);
			ni += cl;
		}
		p += 12 + cl;
	}
	stride = w * bpp;
	rawlen = (uLongf)(h * (stride + 1));
	raw = malloc(rawlen);
	if (!raw || uncompress(raw, &rawlen, idat, (uLong)ni) != Z_OK ||
	    rawlen != h * (stride + 1))
		return 1;
	first = prev = calloc(stride, 1);
	seen = calloc(1 << 21, 1);	/* 15-bit RGB buckets, bit per colour */
	if (!prev || !seen)
		return 1;
	for (uint32_t y = 0; y < h; y++) {
		unsigned char ft = raw[y * (stride + 1)];

		cur = raw + y * (stride + 1) + 1;
		for (size_t x = 0; x < stride; x++) {
			int a = x >= bpp ? cur[x - bpp] : 0, b = prev[x],
			    c = x >= bpp ? prev[x - bpp] : 0;

			switch (ft) {
			case 1: cur[x] = (unsigned char)(cur[x] + a); break;
			case 2: cur[x] = (unsigned char)(cur[x] + b); break;
			case 3: cur[x] = (unsigned char)(cur[x] + (a + b) / 2);
				break;
			case 4: cur[x] = (unsigned char)(cur[x] +
							 paeth(a, b, c));
				break;
			}
		}
		for (size_t x = 0; x < stride; x += bpp) {
			uint32_t rgb = (uint32_t)cur[x] << 16 |
				       (uint32_t)cur[x + 1] << 8 | cur[x + 2];

			if (!(seen[rgb >> 3] & 1 << (rgb & 7))) {
				seen[rgb >> 3] |= (unsigned char)(1 << (rgb & 7));
				colours++;
			}
			nonwhite += rgb != 0xffffff;
		}
		prev = cur;
	}
	printf("%u %u %zu %zu\n", w, h, colours,
	       (size_t)((double)nonwhite * 1000 / ((double)w * h)));
	/* Freed, so that the sanitized lab's leak check passes this tool. */
	free(first);
	free(seen);
	free(raw);
	free(idat);
	free(file);
	return 0;
}
