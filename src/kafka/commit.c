/*
 * commit.c — at-least-once commits (see commit.h).
 */
#include "kafka/commit.h"

#include "base/log.h"

rd_kafka_topic_partition_list_t *fd_commit_list(const fd_kafka *k, const fd_position *pos,
                                                size_t n)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
	for (size_t i = 0; i < n; i++)
		rd_kafka_topic_partition_list_add(l, fd_kafka_input_topic(k, pos[i].topic),
		                                  pos[i].partition)->offset = pos[i].offset;
	return l;
}

void fd_commit_ready(fd_kafka *k, bool sync)
{
	const fd_position *pos;
	if (k->eos)
		return; /* offsets go into the transaction */
	size_t n = fd_epochs_committable(k->epochs, &pos);
	if (n == 0 || k->failed)
		return;
	rd_kafka_topic_partition_list_t *l = fd_commit_list(k, pos, n);
	rd_kafka_resp_err_t err = rd_kafka_commit(k->consumer, l, sync ? 0 : 1);
	if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET && sync)
		/* the last commit before a revoke or a stop: there is no next one */
		fd_log(FD_LOG_WARNING, "final commit failed: %s; the inputs after the last committed "
		       "offsets will be read again (by the partitions' next owner, or after a restart)",
		       rd_kafka_err2str(err));
	else if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
		fd_log(FD_LOG_WARNING, "commit failed: %s (the next epoch's commit covers it)",
		       rd_kafka_err2str(err));
	else
		k->stats.commits++;
	rd_kafka_topic_partition_list_destroy(l);
}
