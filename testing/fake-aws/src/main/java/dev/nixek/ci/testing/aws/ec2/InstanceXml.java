package dev.nixek.ci.testing.aws.ec2;

import dev.nixek.ci.testing.aws.ec2.Ec2Model.Inst;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Resv;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Volume;
import java.util.List;

/** The {@code <reservationSet>}/{@code <instancesSet>} XML of RunInstances and DescribeInstances. */
final class InstanceXml {

    private final Ec2Config cfg;

    InstanceXml(Ec2Config cfg) {
        this.cfg = cfg;
    }

    void reservationBody(Xml x, Resv r, List<Inst> insts) {
        x.el("reservationId", r.id).el("ownerId", cfg.accountId).open("groupSet").close().open("instancesSet");
        for (Inst i : insts) {
            instanceItem(x, i);
        }
        x.close();
    }

    private void instanceItem(Xml x, Inst i) {
        boolean gone = i.state == InstanceState.TERMINATED;
        x.open("item")
                .el("instanceId", i.id)
                .el("imageId", i.imageId)
                .open("instanceState").el("code", i.state.code()).el("name", i.state.label()).close()
                .el("privateDnsName", gone ? "" : "ip-" + i.privateIp.replace('.', '-') + ".ec2.internal")
                .el("dnsName", "")
                .el("reason", i.reason)
                .el("amiLaunchIndex", i.launchIndex)
                .open("productCodes").close()
                .el("instanceType", i.instanceType)
                .el("launchTime", i.launchTime)
                .open("placement").el("availabilityZone", i.availabilityZone).el("groupName", "")
                .el("tenancy", "default").close()
                .open("monitoring").el("state", "disabled").close();
        if (!gone) {
            x.el("subnetId", i.subnetId).el("vpcId", i.vpcId).el("privateIpAddress", i.privateIp)
                    .el("sourceDestCheck", "true");
        }
        x.open("groupSet");
        for (String sg : i.securityGroupIds) {
            x.open("item").el("groupId", sg).el("groupName", sg.endsWith("default") ? "default" : sg).close();
        }
        x.close();
        if (i.stateReasonCode != null) {
            x.open("stateReason").el("code", i.stateReasonCode).el("message", i.stateReasonMessage).close();
        }
        x.el("architecture", i.architecture).el("rootDeviceType", "ebs").el("rootDeviceName", i.rootDeviceName);
        x.open("blockDeviceMapping");
        if (!gone) {
            for (Volume v : i.volumes) {
                x.open("item").el("deviceName", v.deviceName).open("ebs")
                        .el("volumeId", v.id).el("status", "attached").el("attachTime", i.launchTime)
                        .el("deleteOnTermination", String.valueOf(v.deleteOnTermination)).close().close();
            }
        }
        x.close();
        x.el("virtualizationType", "hvm")
                .el("clientToken", i.clientToken == null ? "" : i.clientToken)
                .tagSet(i.tags)
                .el("hypervisor", "xen");
        if (i.iamProfileArn != null) {
            x.open("iamInstanceProfile").el("arn", i.iamProfileArn).el("id", i.iamProfileId).close();
        }
        x.el("ebsOptimized", "false").el("enaSupport", Xml.bool(i.enaSupport));
        if (i.spot) {
            x.el("instanceLifecycle", "spot").el("spotInstanceRequestId", i.spotRequestId);
        }
        x.open("metadataOptions")
                .el("state", i.state == InstanceState.PENDING ? "pending" : "applied")
                .el("httpTokens", i.httpTokens)
                .el("httpPutResponseHopLimit", i.hopLimit)
                .el("httpEndpoint", i.httpEndpoint)
                .el("httpProtocolIpv6", "disabled")
                .el("instanceMetadataTags", "disabled")
                .close();
        if (i.bootMode != null) {
            x.el("bootMode", i.bootMode).el("currentInstanceBootMode", "uefi".equals(i.bootMode) ? "uefi" : "legacy-bios");
        }
        x.el("platformDetails", "Linux/UNIX").el("usageOperation", "RunInstances");
        x.close();
    }
}
