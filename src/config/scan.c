/*
 * scan.c — the second, lexical reading of a libconfig text (see scan.h):
 * libconfig 1.5's tokens, the nesting of groups, lists and arrays, the
 * path of every setting, the names each group already has, and where
 * each bracket opened and closed.
 *
 * The tokenizer follows lib/scanner.l of libconfig 1.5 rule by rule (the
 * longest match wins; "true"/"false" before names), so the lines, names
 * and literals it sees are the ones libconfig saw. The scan keeps a stack
 * of open brackets with the path of what each holds; it never fails on a
 * text libconfig refused, it only stops where it can no longer follow
 * (a closing bracket that closes nothing, or one of the wrong kind).
 *
 * It keeps no state between calls and reads no file but @include'd ones,
 * which it reads the way libconfig does (include_dir/NAME), at most
 * FD_CFG_SCAN_INCLUDE_DEPTH deep.
 */
#include "config/scan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FD_CFG_SCAN_INCLUDE_DEPTH 10   /* libconfig 1.5's MAX_INCLUDE_DEPTH */
#define FD_CFG_SCAN_DEPTH_MAX 4096     /* deeper nesting: stop following */
#define FD_CFG_SCAN_INCLUDE_MAX (16u << 20)

typedef enum scan_tok_kind {
	TOK_EOF,
	TOK_NAME,
	TOK_EQUALS,
	TOK_COMMA,
	TOK_SEMICOLON,
	TOK_OPEN,      /* '{', '(' or '[' */
	TOK_CLOSE,     /* '}', ')' or ']' */
	TOK_STRING,
	TOK_BOOLEAN,
	TOK_INTEGER,
	TOK_FLOAT,
	TOK_INCLUDE,
	TOK_GARBAGE
} scan_tok_kind;

typedef struct scan_tok {
	scan_tok_kind kind;
	char bracket;        /* TOK_OPEN, TOK_CLOSE */
	int line;
	int indent;          /* columns of blanks that start its line (tab: to a multiple of 8) */
	bool first;          /* first token of its line */
	const char *s;       /* its text (TOK_INCLUDE: the file name, in `name`) */
	size_t len;
	bool hex, l_suffix;  /* TOK_INTEGER */
} scan_tok;

typedef struct scan_lexer {
	const char *p;
	const char *line_start;
	int line;
	bool only_blanks;    /* nothing but ' ' and '\t' since the line started */
	int last_token_line;
	int indent;          /* of last_token_line */
	char name[FD_CFG_SCAN_FILE_MAX]; /* TOK_INCLUDE's file name */
} scan_lexer;

/* What the scan remembers of each bracket it saw open (diagnosis only). */
typedef struct scan_opening {
	char bracket;
	int file;            /* 0: the main text, k: the k-th @include */
	int open_line, indent;
	int close_line;      /* 0: still open */
	int suspect;         /* 0, or an FD_CFG_SCAN_SUSPECT_* reason */
	char path[FD_CFG_SCAN_PATH_MAX];
} scan_opening;

typedef struct scan_member {
	const char *name;
	size_t len;
	int line;
	int file;
} scan_member;

typedef struct scan_frame {
	char bracket;        /* 0: the root group */
	char path[FD_CFG_SCAN_PATH_MAX];
	int n_elems;         /* lists and arrays: elements so far */
	size_t opening;      /* index in scan->openings (diagnosis only) */
	scan_member *members; /* groups, diagnosis only */
	size_t n_members, cap_members;
} scan_frame;

typedef struct scan {
	const fd_config_scan_opts *opts;
	fd_config_scan_report *report;
	bool diagnose;
	scan_frame *frames;
	size_t depth, cap_frames;
	scan_opening *openings;
	size_t n_openings, cap_openings;
	long check;          /* opening whose next token tells whether it closed early; -1: none */
	char pending[FD_CFG_SCAN_PATH_MAX]; /* the setting name awaiting its value */
	bool last_was_string; /* adjacent strings are one value */
	char **names;        /* @include'd file names, as written; [0] is the main text's (NULL) */
	char **texts;        /* their texts, kept until the end (members point into them) */
	size_t n_names;
	int cur_file;        /* index in names of the text being read */
	bool stop;
} scan;

/* ---- the tokenizer ------------------------------------------------------------ */

static bool scan_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool scan_hex_digit(char c)
{
	return scan_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool scan_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*';
}

static bool scan_name_char(char c)
{
	return scan_name_start(c) || scan_digit(c) || c == '-' || c == '_';
}

/* [eE][-+]?[0-9]+ at p: its length, or 0 */
static size_t scan_exponent(const char *p)
{
	if (p[0] != 'e' && p[0] != 'E')
		return 0;
	size_t n = 1;
	if (p[n] == '+' || p[n] == '-')
		n++;
	size_t digits = 0;
	while (scan_digit(p[n + digits]))
		digits++;
	return digits > 0 ? n + digits : 0;
}

/* The longest of libconfig's number rules at p: float, integer,
 * integer64 ([-+]?[0-9]+L(L)?), hex (0[Xx][0-9A-Fa-f]+), hex64 (...L(L)?).
 * 0 when none matches. */
static size_t scan_number(const char *p, scan_tok *t)
{
	size_t best = 0;
	size_t sign = (p[0] == '+' || p[0] == '-') ? 1 : 0;
	size_t digits = 0;
	while (scan_digit(p[sign + digits]))
		digits++;
	if (digits > 0) {
		size_t n = sign + digits;
		bool l_suffix = false;
		if (p[n] == 'L') {
			n += p[n + 1] == 'L' ? 2 : 1;
			l_suffix = true;
		}
		best = n;
		t->kind = TOK_INTEGER;
		t->l_suffix = l_suffix;
	}
	/* float: [-+]?([0-9]*)?\.[0-9]*([eE][-+]?[0-9]+)? or
	   [-+]?([0-9]+)(\.[0-9]*)?[eE][-+]?[0-9]+ */
	size_t f = 0;
	if (p[sign + digits] == '.') {
		size_t n = sign + digits + 1;
		while (scan_digit(p[n]))
			n++;
		f = n + scan_exponent(p + n);
	}
	if (digits > 0) {
		size_t n = sign + digits;
		if (p[n] == '.') {
			n++;
			while (scan_digit(p[n]))
				n++;
		}
		size_t e = scan_exponent(p + n);
		if (e > 0 && n + e > f)
			f = n + e;
	}
	if (f > best) {
		best = f;
		t->kind = TOK_FLOAT;
	}
	if (sign == 0 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && scan_hex_digit(p[2])) {
		size_t n = 2;
		while (scan_hex_digit(p[n]))
			n++;
		bool l_suffix = false;
		if (p[n] == 'L') {
			n += p[n + 1] == 'L' ? 2 : 1;
			l_suffix = true;
		}
		if (n > best) {
			best = n;
			t->kind = TOK_INTEGER;
			t->hex = true;
			t->l_suffix = l_suffix;
		}
	}
	return best;
}

static void scan_newline(scan_lexer *lx, const char *at)
{
	lx->line++;
	lx->line_start = at + 1;
	lx->only_blanks = true;
}

static int scan_indent(const scan_lexer *lx)
{
	int col = 0;
	for (const char *q = lx->line_start; *q == ' ' || *q == '\t'; q++)
		col = *q == '\t' ? (col / 8 + 1) * 8 : col + 1;
	return col;
}

/* A string's body up to its closing quote (libconfig's <STRING> rules:
 * a backslash escapes the next character; newlines count). */
static void scan_skip_string(scan_lexer *lx)
{
	while (*lx->p != '\0' && *lx->p != '"') {
		if (*lx->p == '\\' && lx->p[1] != '\0') {
			lx->p++;
			if (*lx->p == '\n')
				scan_newline(lx, lx->p);
		} else if (*lx->p == '\n') {
			scan_newline(lx, lx->p);
		}
		lx->p++;
	}
	if (*lx->p == '"')
		lx->p++;
}

/* `@include[ \t]+"` at the start of a line, then the name up to '"'
 * (\\ and \" escaped). Returns false when p is not one. */
static bool scan_include(scan_lexer *lx, scan_tok *t, bool at_line_start)
{
	const char *p = lx->p;
	if (strncmp(p, "@include", 8) != 0 || (p[8] != ' ' && p[8] != '\t') || !at_line_start)
		return false;
	p += 8;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '"')
		return false;
	p++;
	size_t n = 0;
	while (*p != '\0' && *p != '"') {
		if (*p == '\\' && (p[1] == '\\' || p[1] == '"'))
			p++;
		if (*p == '\n')
			scan_newline(lx, p);
		if (n + 1 < sizeof lx->name)
			lx->name[n++] = *p;
		p++;
	}
	lx->name[n] = '\0';
	if (*p == '"')
		p++;
	lx->p = p;
	t->kind = TOK_INCLUDE;
	return true;
}

static void scan_next(scan_lexer *lx, scan_tok *t)
{
	memset(t, 0, sizeof *t);
	for (;;) {
		const char *p = lx->p;
		if (*p == '\0') {
			t->kind = TOK_EOF;
			t->line = lx->line;
			return;
		}
		if (*p == '\n') {
			scan_newline(lx, p);
			lx->p++;
		} else if (*p == ' ' || *p == '\t') {
			lx->p++;
		} else if (*p == '\r' || *p == '\f') {
			lx->only_blanks = false;
			lx->p++;
		} else if (p[0] == '/' && p[1] == '*') {
			lx->only_blanks = false;
			lx->p += 2;
			while (*lx->p != '\0' && !(lx->p[0] == '*' && lx->p[1] == '/')) {
				if (*lx->p == '\n')
					scan_newline(lx, lx->p);
				lx->p++;
			}
			if (*lx->p != '\0')
				lx->p += 2;
		} else if (p[0] == '#' || (p[0] == '/' && p[1] == '/')) {
			lx->only_blanks = false;
			while (*lx->p != '\0' && *lx->p != '\n')
				lx->p++;
		} else {
			break;
		}
	}

	const char *p = lx->p;
	t->line = lx->line;
	t->first = lx->line != lx->last_token_line;
	if (t->first)
		lx->indent = scan_indent(lx);
	t->indent = lx->indent;
	lx->last_token_line = lx->line;
	t->s = p;
	t->len = 1;
	bool at_line_start = lx->only_blanks;
	lx->only_blanks = false;
	switch (*p) {
	case '=':
	case ':': t->kind = TOK_EQUALS; lx->p++; return;
	case ',': t->kind = TOK_COMMA; lx->p++; return;
	case ';': t->kind = TOK_SEMICOLON; lx->p++; return;
	case '{':
	case '(':
	case '[': t->kind = TOK_OPEN; t->bracket = *p; lx->p++; return;
	case '}':
	case ')':
	case ']': t->kind = TOK_CLOSE; t->bracket = *p; lx->p++; return;
	case '"':
		lx->p++;
		scan_skip_string(lx);
		t->kind = TOK_STRING;
		return;
	case '@':
		if (scan_include(lx, t, at_line_start))
			return;
		break;
	default:
		break;
	}
	if (scan_name_start(*p)) {
		size_t n = 1;
		while (scan_name_char(p[n]))
			n++;
		bool boolean = (n == 4 && strncasecmp(p, "true", 4) == 0) ||
		               (n == 5 && strncasecmp(p, "false", 5) == 0);
		t->kind = boolean ? TOK_BOOLEAN : TOK_NAME;
		t->len = n;
		lx->p += n;
		return;
	}
	size_t n = scan_number(p, t);
	if (n > 0) {
		t->len = n;
		lx->p += n;
		return;
	}
	t->kind = TOK_GARBAGE;
	lx->p++;
}

/* ---- integers ------------------------------------------------------------------ */

/* Hand an integer literal to the callback when libconfig may not store it
 * as written. */
static void scan_integer(scan *sc, const scan_tok *t, const char *path)
{
	if (sc->opts->on_int == NULL)
		return;
	char digits[64];
	size_t n = t->len;
	while (n > 0 && t->s[n - 1] == 'L')
		n--;
	fd_config_scan_int lit = {
		.file = sc->names[sc->cur_file],
		.line = t->line,
		.path = path,
	};
	char literal[64];
	snprintf(literal, sizeof literal, "%.*s%s", (int)(t->len < 60 ? t->len : 60), t->s,
	         t->len < 60 ? "" : "...");
	lit.literal = literal;
	if (n >= sizeof digits) {
		lit.fits64 = false;
	} else {
		memcpy(digits, t->s, n);
		digits[n] = '\0';
		errno = 0;
		if (t->hex) {
			unsigned long long u = strtoull(digits, NULL, 16);
			lit.fits64 = errno == 0 && u <= (unsigned long long)INT64_MAX;
			lit.value = lit.fits64 ? (int64_t)u : 0;
		} else {
			long long v = strtoll(digits, NULL, 10);
			lit.fits64 = errno == 0;
			lit.value = v;
		}
	}
	bool fits32 = lit.fits64 && lit.value >= INT32_MIN && lit.value <= INT32_MAX;
	if (lit.fits64 && (t->l_suffix || fits32))
		return;
	if (sc->opts->on_int(sc->opts->arg, &lit) != 0)
		sc->stop = true;
}

/* ---- the nesting -------------------------------------------------------------- */

/* "a.b", or "b" when a is ""; cut to size (paths are for messages) */
static void scan_join(char *out, size_t size, const char *a, const char *b)
{
	if (snprintf(out, size, "%s%s%s", a, a[0] != '\0' ? "." : "", b) < 0)
		out[0] = '\0';
}

static int scan_current_file(const scan *sc)
{
	return sc->cur_file;
}

/* Is the current file the one libconfig failed in? */
static bool scan_in_error_file(const scan *sc)
{
	const char *want = sc->opts->error_file;
	const char *cur = sc->names[sc->cur_file];
	if (cur == NULL)
		return want == NULL;
	return want != NULL && strcmp(want, cur) == 0;
}

static int scan_push(scan *sc, const scan_tok *t, const char *path)
{
	if (sc->depth == FD_CFG_SCAN_DEPTH_MAX) {
		sc->stop = true;
		return 0;
	}
	if (sc->depth == sc->cap_frames) {
		size_t cap = sc->cap_frames * 2;
		scan_frame *f = realloc(sc->frames, cap * sizeof *f);
		if (f == NULL)
			return -1;
		sc->frames = f;
		sc->cap_frames = cap;
	}
	scan_frame *f = &sc->frames[sc->depth++];
	memset(f, 0, sizeof *f);
	f->bracket = t->bracket;
	snprintf(f->path, sizeof f->path, "%s", path);
	if (!sc->diagnose)
		return 0;
	if (sc->n_openings == sc->cap_openings) {
		size_t cap = sc->cap_openings ? sc->cap_openings * 2 : 64;
		scan_opening *o = realloc(sc->openings, cap * sizeof *o);
		if (o == NULL)
			return -1;
		sc->openings = o;
		sc->cap_openings = cap;
	}
	scan_opening *o = &sc->openings[sc->n_openings];
	memset(o, 0, sizeof *o);
	o->bracket = t->bracket;
	o->file = scan_current_file(sc);
	o->open_line = t->line;
	o->indent = t->indent;
	snprintf(o->path, sizeof o->path, "%s", path);
	f->opening = sc->n_openings++;
	return 0;
}

static char scan_closer_of(char open)
{
	return open == '{' ? '}' : open == '(' ? ')' : ']';
}

/* The diagnosis of a closing bracket at the error line that closes
 * nothing: which opening had the same indentation (what it was meant to
 * close), and which closing bracket since then looks like the extra one. */
static void scan_unmatched(scan *sc, const scan_tok *t)
{
	fd_config_scan_report *r = sc->report;
	if (!sc->diagnose || t->line != sc->opts->error_line || !scan_in_error_file(sc))
		return;
	r->closer = t->bracket;
	r->closer_line = t->line;
	int file = scan_current_file(sc);
	const scan_opening *meant = NULL;
	for (size_t i = sc->n_openings; i-- > 0;) {
		const scan_opening *o = &sc->openings[i];
		if (o->file == file && o->indent == t->indent && o->open_line <= t->line &&
		    scan_closer_of(o->bracket) == t->bracket) {
			meant = o;
			break;
		}
	}
	if (meant == NULL)
		return;
	const scan_opening *early = meant;
	for (size_t i = 0; i < sc->n_openings; i++) {
		const scan_opening *o = &sc->openings[i];
		if (o->suspect && o->file == file && o->close_line >= meant->open_line &&
		    o->close_line < t->line && (!early->suspect || o->close_line < early->close_line))
			early = o;
	}
	snprintf(r->early_path, sizeof r->early_path, "%s", early->path);
	r->early_open_line = early->open_line;
	r->early_close_line = early->close_line;
	r->early_closer = scan_closer_of(early->bracket);
	r->early_suspect = early->suspect;
}

static void scan_pop(scan *sc, const scan_tok *t)
{
	scan_frame *f = &sc->frames[sc->depth - 1];
	if (f->bracket == 0) {
		scan_unmatched(sc, t);
		sc->stop = true;
		return;
	}
	if (scan_closer_of(f->bracket) != t->bracket) {
		sc->stop = true; /* libconfig's line is the right one */
		return;
	}
	if (sc->diagnose) {
		scan_opening *o = &sc->openings[f->opening];
		o->close_line = t->line;
		if (t->first && t->indent != o->indent && o->file == scan_current_file(sc))
			o->suspect = FD_CFG_SCAN_SUSPECT_INDENT;
		sc->check = (long)f->opening;
	}
	free(f->members);
	sc->depth--;
}

/* A name in a group: remember it, and at the error line look for an
 * earlier one. */
static int scan_member_name(scan *sc, const scan_tok *t)
{
	scan_frame *f = &sc->frames[sc->depth - 1];
	snprintf(sc->pending, sizeof sc->pending, "%.*s", (int)t->len, t->s);
	if (!sc->diagnose)
		return 0;
	fd_config_scan_report *r = sc->report;
	if (t->line == sc->opts->error_line && scan_in_error_file(sc) && r->dup_path[0] == '\0') {
		for (size_t i = 0; i < f->n_members; i++) {
			const scan_member *m = &f->members[i];
			if (m->len == t->len && memcmp(m->name, t->s, t->len) == 0) {
				scan_join(r->dup_path, sizeof r->dup_path, f->path, sc->pending);
				r->dup_first_line = m->line;
				snprintf(r->dup_first_file, sizeof r->dup_first_file, "%s",
				         m->file == 0 ? "" : sc->names[m->file]);
				break;
			}
		}
	}
	if (f->n_members == f->cap_members) {
		size_t cap = f->cap_members ? f->cap_members * 2 : 16;
		scan_member *m = realloc(f->members, cap * sizeof *m);
		if (m == NULL)
			return -1;
		f->members = m;
		f->cap_members = cap;
	}
	f->members[f->n_members++] = (scan_member){ t->s, t->len, t->line, scan_current_file(sc) };
	return 0;
}

static int scan_text(scan *sc, const char *text, int depth);

/* libconfig reads include_dir/NAME (or NAME without an include_dir). */
static int scan_include_file(scan *sc, const char *name, int depth)
{
	if (depth >= FD_CFG_SCAN_INCLUDE_DEPTH) {
		sc->stop = true;
		return 0;
	}
	char path[FD_CFG_SCAN_FILE_MAX * 2 + 2];
	if (sc->opts->include_dir != NULL)
		snprintf(path, sizeof path, "%s/%s", sc->opts->include_dir, name);
	else
		snprintf(path, sizeof path, "%s", name);
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		sc->stop = true; /* libconfig failed there too */
		return 0;
	}
	char *text = malloc(FD_CFG_SCAN_INCLUDE_MAX + 1);
	char *copy = strdup(name);
	char **names = realloc(sc->names, (sc->n_names + 1) * sizeof *names);
	if (names != NULL)
		sc->names = names;
	char **texts = realloc(sc->texts, (sc->n_names + 1) * sizeof *texts);
	if (texts != NULL)
		sc->texts = texts;
	if (text == NULL || copy == NULL || names == NULL || texts == NULL) {
		free(text);
		free(copy);
		fclose(fp);
		return -1;
	}
	size_t len = fread(text, 1, FD_CFG_SCAN_INCLUDE_MAX, fp);
	fclose(fp);
	text[len] = '\0';
	/* kept to the end: openings and members refer to them */
	sc->names[sc->n_names] = copy;
	sc->texts[sc->n_names] = text;
	int outer = sc->cur_file;
	sc->cur_file = (int)sc->n_names++;
	int rc = scan_text(sc, text, depth + 1);
	sc->cur_file = outer;
	return rc;
}

static bool scan_in_group(const scan *sc)
{
	char b = sc->frames[sc->depth - 1].bracket;
	return b == 0 || b == '{';
}

/* Where a value (or an opening bracket) at this point belongs; a string
 * right after a string continues it (libconfig joins them). */
static void scan_value_path(scan *sc, bool continues, char *out, size_t size)
{
	scan_frame *f = &sc->frames[sc->depth - 1];
	if (scan_in_group(sc)) {
		scan_join(out, size, f->path, sc->pending);
		return;
	}
	if (!continues)
		f->n_elems++;
	char idx[24];
	snprintf(idx, sizeof idx, "[%d]", f->n_elems - 1);
	scan_join(out, size, f->path, idx);
}

static int scan_text(scan *sc, const char *text, int depth)
{
	scan_lexer lx = { .p = text, .line_start = text, .line = 1, .only_blanks = true };
	int file = sc->cur_file;
	while (!sc->stop) {
		scan_tok t;
		scan_next(&lx, &t);
		if (t.kind == TOK_EOF)
			break;
		if (sc->check >= 0 && t.kind != TOK_SEMICOLON && t.kind != TOK_COMMA) {
			scan_opening *o = &sc->openings[sc->check];
			if (t.first && t.kind != TOK_CLOSE && t.indent > o->indent && o->file == file &&
			    o->suspect == 0)
				o->suspect = FD_CFG_SCAN_SUSPECT_FOLLOWERS;
			sc->check = -1;
		}
		bool was_string = sc->last_was_string;
		sc->last_was_string = false;
		char path[FD_CFG_SCAN_PATH_MAX];
		switch (t.kind) {
		case TOK_NAME:
			if (scan_in_group(sc) && scan_member_name(sc, &t) < 0)
				return -1;
			break;
		case TOK_SEMICOLON:
			sc->pending[0] = '\0';
			break;
		case TOK_OPEN:
			scan_value_path(sc, false, path, sizeof path);
			sc->pending[0] = '\0';
			if (scan_push(sc, &t, path) < 0)
				return -1;
			break;
		case TOK_CLOSE:
			scan_pop(sc, &t);
			break;
		case TOK_STRING:
			scan_value_path(sc, was_string, path, sizeof path);
			sc->last_was_string = true;
			break;
		case TOK_BOOLEAN:
		case TOK_FLOAT:
			scan_value_path(sc, false, path, sizeof path);
			break;
		case TOK_INTEGER:
			scan_value_path(sc, false, path, sizeof path);
			scan_integer(sc, &t, path);
			break;
		case TOK_INCLUDE:
			if (scan_include_file(sc, lx.name, depth) < 0)
				return -1;
			break;
		default:
			break;
		}
	}
	return 0;
}

int fd_config_scan(const char *text, const fd_config_scan_opts *opts,
                   fd_config_scan_report *report)
{
	scan sc = { .opts = opts, .report = report, .check = -1 };
	memset(report, 0, sizeof *report);
	sc.diagnose = opts->error_line > 0;
	sc.cap_frames = 16;
	sc.frames = calloc(sc.cap_frames, sizeof *sc.frames);
	int rc = -1;
	if (sc.frames == NULL)
		goto out;
	sc.depth = 1; /* the root group */
	sc.names = calloc(1, sizeof *sc.names);
	sc.texts = calloc(1, sizeof *sc.texts);
	if (sc.names == NULL || sc.texts == NULL)
		goto out;
	sc.n_names = 1; /* the main text: no name, not owned */
	rc = scan_text(&sc, text, 0);
out:
	for (size_t i = 0; i < sc.depth; i++)
		free(sc.frames[i].members);
	free(sc.frames);
	free(sc.openings);
	for (size_t i = 1; i < sc.n_names; i++) {
		free(sc.names[i]);
		free(sc.texts[i]);
	}
	free(sc.names);
	free(sc.texts);
	return rc;
}
