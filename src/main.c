/*
 * main.c — the funneld command line: parses the command and its options,
 * then hands over to the command's function.
 *
 * Commands live in one table ({name, function, arguments, help}); adding a
 * command is adding a row and its function, and --help is generated from
 * the table. This file holds no domain logic: configuration loading,
 * the engine, Kafka and the event loop are in the library, so tests and
 * other tools reach them without going through main. Exit codes follow
 * sysexits(3): 64 for a usage error, 78 for a configuration error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "demo/demo.h"
#include "demo/devbroker.h"
#include "base/log.h"
#include "config/config.h"

extern const char fd_default_config[];

#ifndef FUNNELD_VERSION
#define FUNNELD_VERSION "unknown"
#endif

#define FD_EXIT_USAGE 64  /* EX_USAGE */
#define FD_EXIT_CONFIG 78 /* EX_CONFIG */
#define FD_MAX_ARGS 16

/* What every command may be given: -c FILE, -o path=value (repeatable) and
 * positional arguments. argv strings are borrowed. */
typedef struct fd_cli {
	const char *command;
	const char *config_path;
	const char **overrides;
	size_t n_overrides;
	const char *args[FD_MAX_ARGS];
	size_t n_args;
	const char *flag_names[FD_MAX_ARGS];  /* command flags: --name value */
	const char *flag_values[FD_MAX_ARGS];
	size_t n_flags;
	bool help;
} fd_cli;

typedef int (*fd_command_fn)(const fd_cli *cli);

typedef struct fd_command {
	const char *name;
	fd_command_fn run;     /* NULL: not in this build */
	const char *synopsis;
	const char *help;
	const char *flags;     /* ",name,name," : the --name VALUE flags it takes */
	const char *switches;  /* ",name," : the --name flags it takes, without a value */
} fd_command;

static int fd_cmd_check_config(const fd_cli *cli);
static int fd_cmd_run(const fd_cli *cli);
static int fd_cmd_demo(const fd_cli *cli);
static int fd_cmd_dev_broker(const fd_cli *cli);

static const fd_command fd_commands[] = {
	{ "run", fd_cmd_run, "-c FILE [-o path=value ...]",
	  "consume, score and emit in the foreground (systemd Type=notify)", NULL },
	{ "check-config", fd_cmd_check_config, "[--print] FILE [-o path=value ...]",
	  "validate FILE with the overrides; print \"configuration OK\" (exit 0)\n"
	  "or \"file:line: what is wrong\" (exit 78); --print writes the effective\n"
	  "configuration (every setting, defaults and overrides applied) to stdout\n"
	  "in the file's syntax, and \"configuration OK\" to stderr",
	  NULL, ",print," },
	{ "demo", fd_cmd_demo,
	  "[-c FILE] [-o path=value ...] [--duration SECONDS] [--speed X] [--leads N] [--seed N]",
	  "embedded Kafka, synthetic traffic, accelerated clock, live output;\n"
	  "defaults: 90 s, speed 7200 (two hours a second), 300 leads", ",duration,speed,leads,seed," },
	{ "dev-broker", fd_cmd_dev_broker, "[-c FILE] [-o path=value ...] [--partitions N] [--brokers N]",
	  "run librdkafka's mock cluster on loopback with the configured topics;\n"
	  "prints the bootstrap address, runs until SIGTERM (stdin: down/up/rtt ID, quit)",
	  ",partitions,brokers," },
};

#define FD_N_COMMANDS (sizeof fd_commands / sizeof fd_commands[0])

static void fd_usage(FILE *out)
{
	fprintf(out,
	        "usage: funneld COMMAND [options]\n"
	        "       funneld --help | --version\n"
	        "\n"
	        "Real-time lead scoring and marketing-to-sales handoff.\n"
	        "\n"
	        "commands:\n");
	for (size_t i = 0; i < FD_N_COMMANDS; i++) {
		const fd_command *c = &fd_commands[i];
		fprintf(out, "  %s %s%s\n", c->name, c->synopsis,
		        c->run == NULL ? "  (not available in this build)" : "");
		/* indent every line of the help text */
		const char *line = c->help;
		while (*line != '\0') {
			const char *nl = strchr(line, '\n');
			int len = nl != NULL ? (int)(nl - line) : (int)strlen(line);
			fprintf(out, "      %.*s\n", len, line);
			line += len + (nl != NULL);
		}
	}
	fprintf(out,
	        "\n"
	        "options:\n"
	        "  -c, --config FILE      configuration file (libconfig syntax, see\n"
	        "                         config/funneld.conf)\n"
	        "  -o, --set path=value   override one setting, e.g. -o scoring.half_life=14d,\n"
	        "                         -o slas.[0].duration=24h,\n"
	        "                         -o kafka.bootstrap.servers=host:9092; repeatable\n"
	        "  -h, --help             this text\n"
	        "  -V, --version          print the version\n"
	        "\n"
	        "exit status: 0 success, 64 usage error, 78 configuration error\n");
}

static int fd_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fd_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("funneld: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	fd_usage(stderr);
	return FD_EXIT_USAGE;
}

static const fd_command *fd_find_command(const char *name)
{
	for (size_t i = 0; i < FD_N_COMMANDS; i++)
		if (strcmp(fd_commands[i].name, name) == 0)
			return &fd_commands[i];
	return NULL;
}

/* Is `arg` ("name" or "name=value") in `list` (",name,name,")? */
static bool fd_command_lists(const char *list, const char *arg)
{
	if (list == NULL)
		return false;
	size_t n = strcspn(arg, "=");
	char want[64];
	if (n + 3 > sizeof want)
		return false;
	snprintf(want, sizeof want, ",%.*s,", (int)n, arg);
	return strstr(list, want) != NULL;
}

/* Is `arg` ("name" or "name=value") one of the command's --flags? */
static bool fd_command_flag(const fd_cli *cli, const char *arg)
{
	const fd_command *c = fd_find_command(cli->command);
	return c != NULL && fd_command_lists(c->flags, arg);
}

/* Is `arg` one of the command's value-less --switches? */
static bool fd_command_switch(const fd_cli *cli, const char *arg)
{
	const fd_command *c = fd_find_command(cli->command);
	return c != NULL && fd_command_lists(c->switches, arg);
}

/* Value of --name, or NULL. Names are stored with any "=value" suffix. */
static const char *fd_cli_flag(const fd_cli *cli, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < cli->n_flags; i++)
		if (strncmp(cli->flag_names[i], name, n) == 0 &&
		    (cli->flag_names[i][n] == '\0' || cli->flag_names[i][n] == '='))
			return cli->flag_values[i];
	return NULL;
}

/* Options may come before or after positional arguments; "--" ends them.
 * Returns 0, or the exit code of a usage error. */
static int fd_cli_parse(fd_cli *cli, int argc, char **argv)
{
	bool options_done = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *value = NULL;
		bool is_config = false;

		if (!options_done && strcmp(a, "--") == 0) {
			options_done = true;
			continue;
		}
		if (!options_done && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
			cli->help = true;
			continue;
		}
		if (!options_done && a[0] == '-' && a[1] != '\0') {
			if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
				is_config = true;
			} else if (strcmp(a, "-o") == 0 || strcmp(a, "--set") == 0) {
				/* an override */
			} else if (strncmp(a, "-c", 2) == 0) {
				is_config = true;
				value = a + 2;
			} else if (strncmp(a, "-o", 2) == 0) {
				value = a + 2;
			} else if (strncmp(a, "--config=", 9) == 0) {
				is_config = true;
				value = a + 9;
			} else if (strncmp(a, "--set=", 6) == 0) {
				value = a + 6;
			} else if (strncmp(a, "--", 2) == 0 && fd_command_switch(cli, a + 2)) {
				if (strchr(a, '=') != NULL)
					return fd_usage_error("option '%.*s' takes no value", (int)strcspn(a, "="), a);
				if (cli->n_flags == FD_MAX_ARGS)
					return fd_usage_error("too many options (at '%s')", a);
				cli->flag_names[cli->n_flags] = a + 2;
				cli->flag_values[cli->n_flags++] = "";
				continue;
			} else if (strncmp(a, "--", 2) == 0 && fd_command_flag(cli, a + 2)) {
				if (cli->n_flags == FD_MAX_ARGS)
					return fd_usage_error("too many options (at '%s')", a);
				const char *eq = strchr(a, '=');
				if (eq == NULL && i + 1 == argc)
					return fd_usage_error("option '%s' needs a value", a);
				cli->flag_names[cli->n_flags] = a + 2;
				cli->flag_values[cli->n_flags++] = eq != NULL ? eq + 1 : argv[++i];
				continue;
			} else {
				return fd_usage_error("unknown option '%s'", a);
			}
			if (value == NULL) {
				if (i + 1 == argc)
					return fd_usage_error("option '%s' needs a value", a);
				value = argv[++i];
			}
			if (is_config) {
				if (cli->config_path != NULL)
					return fd_usage_error("more than one -c given (second: '%s')", value);
				cli->config_path = value;
			} else {
				cli->overrides[cli->n_overrides++] = value;
			}
			continue;
		}
		if (cli->n_args == FD_MAX_ARGS)
			return fd_usage_error("too many arguments (at '%s')", a);
		cli->args[cli->n_args++] = a;
	}
	return 0;
}

static int fd_cmd_check_config(const fd_cli *cli)
{
	const char *path = cli->config_path;
	if (cli->n_args > 1 || (cli->n_args == 1 && path != NULL))
		return fd_usage_error("check-config takes one FILE (got '%s' too)", cli->args[cli->n_args - 1]);
	if (cli->n_args == 1)
		path = cli->args[0];
	if (path == NULL)
		return fd_usage_error("check-config needs a FILE");

	fd_config *cfg = calloc(1, sizeof *cfg);
	if (cfg == NULL) {
		fputs("funneld: out of memory\n", stderr);
		return EXIT_FAILURE;
	}
	char err[1024];
	int rc = fd_config_load(cfg, path, cli->overrides, cli->n_overrides, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		free(cfg);
		return FD_EXIT_CONFIG;
	}
	/* --print: the configuration alone on stdout, so that it can be saved
	   and loaded again */
	bool print = fd_cli_flag(cli, "print") != NULL;
	rc = print ? fd_config_print(cfg, stdout) : 0;
	fd_config_free(cfg);
	free(cfg);
	if (rc != 0) {
		fprintf(stderr, "funneld: cannot write the configuration: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	fputs("configuration OK\n", print ? stderr : stdout);
	return EXIT_SUCCESS;
}

/* Load -c FILE, or the embedded config/funneld.conf when `optional` and no
 * file was given. Returns 0, or the exit code after printing the error. */
static int fd_load(const fd_cli *cli, fd_config *cfg, bool optional)
{
	char err[1024];
	int rc;
	if (cli->config_path == NULL && !optional)
		return fd_usage_error("%s needs -c FILE", cli->command);
	if (cli->config_path != NULL)
		rc = fd_config_load(cfg, cli->config_path, cli->overrides, cli->n_overrides, err,
		                    sizeof err);
	else
		rc = fd_config_load_string(cfg, "(built-in funneld.conf)", fd_default_config,
		                           cli->overrides, cli->n_overrides, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		return FD_EXIT_CONFIG;
	}
	fd_log_init(cfg->settings.log_level);
	fd_log_set_redact(cfg->settings.log_redact_ids, cfg->settings.log_redact_key[0]
	                                                    ? cfg->settings.log_redact_key
	                                                    : cfg->settings.group_id);
	return 0;
}

static int fd_flag_int(const fd_cli *cli, const char *name, int def, int lo, int hi, int *out)
{
	const char *v = fd_cli_flag(cli, name);
	*out = def;
	if (v == NULL)
		return 0;
	char *end;
	long n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < lo || n > hi)
		return fd_usage_error("--%s must be an integer in %d..%d (got '%s')", name, lo, hi, v);
	*out = (int)n;
	return 0;
}

static int fd_flag_double(const fd_cli *cli, const char *name, double def, double lo, double hi,
                          double *out)
{
	const char *v = fd_cli_flag(cli, name);
	*out = def;
	if (v == NULL)
		return 0;
	char *end;
	double d = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || !(d >= lo && d <= hi))
		return fd_usage_error("--%s must be a number in %g..%g (got '%s')", name, lo, hi, v);
	*out = d;
	return 0;
}

static int fd_cmd_run(const fd_cli *cli)
{
	if (cli->n_args > 0)
		return fd_usage_error("run takes no arguments (got '%s')", cli->args[0]);
	fd_config *cfg = calloc(1, sizeof *cfg);
	if (cfg == NULL)
		return EXIT_FAILURE;
	int rc = fd_load(cli, cfg, false);
	if (rc == 0)
		rc = fd_daemon_run(cfg, cli->config_path, cli->overrides, cli->n_overrides);
	fd_config_free(cfg);
	free(cfg);
	return rc;
}

static int fd_cmd_dev_broker(const fd_cli *cli)
{
	int partitions, brokers, rc;
	if ((rc = fd_flag_int(cli, "partitions", 3, 1, 256, &partitions)) != 0 ||
	    (rc = fd_flag_int(cli, "brokers", 1, 1, 16, &brokers)) != 0)
		return rc;
	fd_config *cfg = calloc(1, sizeof *cfg);
	if (cfg == NULL)
		return EXIT_FAILURE;
	rc = fd_load(cli, cfg, true);
	if (rc == 0)
		rc = fd_devbroker_run(cfg, partitions, brokers);
	fd_config_free(cfg);
	free(cfg);
	return rc;
}

static int fd_cmd_demo(const fd_cli *cli)
{
	fd_demo_options o;
	fd_demo_defaults(&o);
	int rc, leads = o.leads, seed = (int)o.seed;
	if ((rc = fd_flag_double(cli, "duration", o.duration_s, 0, 86400, &o.duration_s)) != 0 ||
	    (rc = fd_flag_double(cli, "speed", o.speed, 1, 1e7, &o.speed)) != 0 ||
	    (rc = fd_flag_int(cli, "leads", leads, 1, 1000000, &leads)) != 0 ||
	    (rc = fd_flag_int(cli, "seed", seed, 0, 1000000000, &seed)) != 0)
		return rc;
	o.leads = leads;
	o.seed = (uint64_t)seed;
	fd_config *cfg = calloc(1, sizeof *cfg);
	if (cfg == NULL)
		return EXIT_FAILURE;
	rc = fd_load(cli, cfg, true);
	if (rc == 0)
		rc = fd_demo_run(cfg, &o);
	fd_config_free(cfg);
	free(cfg);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fd_usage(stderr);
		return FD_EXIT_USAGE;
	}
	const char *first = argv[1];
	if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0 || strcmp(first, "help") == 0) {
		fd_usage(stdout);
		return EXIT_SUCCESS;
	}
	if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0) {
		printf("funneld %s\n", FUNNELD_VERSION);
		return EXIT_SUCCESS;
	}

	const fd_command *cmd = fd_find_command(first);
	if (cmd == NULL)
		return fd_usage_error("unknown %s '%s'", first[0] == '-' ? "option" : "command", first);

	/* every override is an argv string, so argc bounds their number */
	fd_cli cli = { .command = cmd->name };
	cli.overrides = calloc((size_t)argc, sizeof *cli.overrides);
	if (cli.overrides == NULL) {
		fputs("funneld: out of memory\n", stderr);
		return EXIT_FAILURE;
	}
	int rc = fd_cli_parse(&cli, argc - 2, argv + 2);
	if (rc == 0 && cli.help) {
		fd_usage(stdout);
		rc = EXIT_SUCCESS;
	} else if (rc == 0 && cmd->run == NULL) {
		fprintf(stderr, "funneld: command '%s' is not available in this build\n", cmd->name);
		rc = FD_EXIT_USAGE;
	} else if (rc == 0) {
		rc = cmd->run(&cli);
	}
	free(cli.overrides);
	return rc;
}
