#ifndef MOORING_CNETLINK_SHIM_H
#define MOORING_CNETLINK_SHIM_H
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/rtnl.h>
#include <netlink/route/link/macvtap.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/link/vlan.h>
/* <net/if.h>, not <linux/if.h>: the latter clashes with Glibc's struct ifreq in Swift. */
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <linux/netlink.h>
#include <linux/if_tun.h>
#include <linux/neighbour.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <sys/signalfd.h>

/* GNU-only declarations that the Glibc module hides without _GNU_SOURCE. */
extern int setns(int fd, int nstype);
extern int unshare(int flags);

/* _IOW() macros do not import into Swift. */
static inline unsigned long mooring_TUNSETIFF(void) { return TUNSETIFF; }
static inline unsigned long mooring_TUNSETPERSIST(void) { return TUNSETPERSIST; }
static inline unsigned long mooring_TUNGETIFF(void) { return TUNGETIFF; }
static inline unsigned long mooring_TUNSETIFINDEX(void) { return TUNSETIFINDEX; }
static inline unsigned long mooring_TUNSETOWNER(void) { return TUNSETOWNER; }
static inline unsigned long mooring_TUNSETGROUP(void) { return TUNSETGROUP; }

/* makedev() is a macro in glibc. */
static inline dev_t mooring_makedev(unsigned int major, unsigned int minor) { return makedev(major, minor); }

/* `#define X_MAX (__X_MAX - 1)` does not import into Swift. */
static const int mooring_IFLA_MAX = IFLA_MAX;
static const int mooring_IFLA_INFO_MAX = IFLA_INFO_MAX;
static const int mooring_IFLA_MACVLAN_MAX = IFLA_MACVLAN_MAX;
static const int mooring_IFLA_VXLAN_MAX = IFLA_VXLAN_MAX;
static const int mooring_IFLA_VLAN_MAX = IFLA_VLAN_MAX;
static const int mooring_IFLA_TUN_MAX = IFLA_TUN_MAX;
static const int mooring_IFLA_BRPORT_MAX = IFLA_BRPORT_MAX;
static const int mooring_NDA_MAX = NDA_MAX;
static const int mooring_IFA_MAX = IFA_MAX;
static const int mooring_RTA_MAX = RTA_MAX;
#endif
