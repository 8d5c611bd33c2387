/* include/linux/sched.h: struct task_struct (as the model lays it out, from
 * kthreadd-emu/generated.h, with TASK_* and PF_*), current, and the scheduler's
 * entry points. */
#ifndef _LINUX_SCHED_H
#define _LINUX_SCHED_H
#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/thread_info.h>
#include <asm/current.h>
#include <asm/system.h>
#include <asm/processor.h>

#define __set_task_state(tsk, state_value)	do { (tsk)->state = (state_value); } while (0)
#define set_task_state(tsk, state_value)	set_mb((tsk)->state, (state_value))
#define __set_current_state(state_value)	do { current->state = (state_value); } while (0)
#define set_current_state(state_value)		set_mb(current->state, (state_value))

asmlinkage void schedule(void);
int wake_up_process(struct task_struct *tsk);
int _cond_resched(void);
#define cond_resched() _cond_resched()
int kernel_thread(int (*fn)(void *), void *arg, unsigned long flags);

#define task_thread_info(task)	((struct thread_info *)(task)->stack)
#define test_tsk_thread_flag(tsk, flag)	test_ti_thread_flag(task_thread_info(tsk), flag)

static inline int signal_pending(struct task_struct *p)
{
	return unlikely(test_tsk_thread_flag(p, TIF_SIGPENDING));
}

static inline int need_resched(void)
{
	return unlikely(test_thread_flag(TIF_NEED_RESCHED));
}

static inline pid_t task_pid_nr(struct task_struct *tsk)
{
	return tsk->pid;
}

static inline unsigned int task_cpu(const struct task_struct *p)
{
	return task_thread_info(p)->cpu;
}

extern void __put_task_struct(struct task_struct *t);
#define get_task_struct(tsk) do { __sync_fetch_and_add(&(tsk)->usage.counter, 1); } while (0)

static inline void put_task_struct(struct task_struct *t)
{
	if (__sync_sub_and_fetch(&t->usage.counter, 1) == 0)
		__put_task_struct(t);
}
#endif
