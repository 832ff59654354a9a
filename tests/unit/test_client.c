/*
 * test_client.c — the default group.instance.id of a systemd service
 * (src/kafka/client.c): "HOST-UNIT" in the characters Kafka takes.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kafka/client.h"

Test(client, instance_id_is_host_and_unit_in_kafkas_characters)
{
	char id[FD_CLIENT_INSTANCE_ID_MAX + 1];
	cr_expect_eq(fd_client_instance_id("db7", "funneld.service", id, sizeof id), 19);
	cr_expect_str_eq(id, "db7-funneld.service");
	fd_client_instance_id("db7.eu-west", "funneld@eu.service", id, sizeof id);
	cr_expect_str_eq(id, "db7.eu-west-funneld_eu.service");
	fd_client_instance_id("h\xc3\xa9te:1", "a b", id, sizeof id);
	cr_expect_str_eq(id, "h__te_1-a_b");
}

Test(client, instance_id_is_cut_at_kafkas_limit_and_the_buffer)
{
	char host[400], id[FD_CLIENT_INSTANCE_ID_MAX + 50];
	memset(host, 'h', sizeof host - 1);
	host[sizeof host - 1] = '\0';
	cr_expect_eq(fd_client_instance_id(host, "funneld.service", id, sizeof id),
	             FD_CLIENT_INSTANCE_ID_MAX);
	cr_expect_eq(strlen(id), FD_CLIENT_INSTANCE_ID_MAX);
	char small[8];
	cr_expect_eq(fd_client_instance_id("abc", "def", small, sizeof small), 7);
	cr_expect_str_eq(small, "abc-def");
	cr_expect_eq(fd_client_instance_id("abc", "defg", small, sizeof small), 7);
	cr_expect_str_eq(small, "abc-def");
}
