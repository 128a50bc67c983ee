// A bucket's settings: one tab per configuration the console API serves today (versioning,
// Object Lock, lifecycle, CORS, bucket policy, tags). A tab appears only when its API exists.
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { getBucket } from "../../api/endpoints";
import { Button } from "../../components/ui/Button";
import { Card, EmptyState, Facts, PageHeader, SkeletonRows } from "../../components/ui/Card";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "../../components/ui/Tabs";
import { formatBytes, formatDate } from "../../lib";
import { CorsTab, PolicyTab, TaggingTab } from "./BucketAccessTabs";
import { LifecycleTab } from "./LifecycleTab";
import { ObjectLockTab, VersioningTab } from "./VersioningTabs";

function Overview({ bucket }: { bucket: string }) {
  const query = useQuery({ queryKey: ["buckets", bucket], queryFn: () => getBucket(bucket) });
  if (query.isPending) return <SkeletonRows rows={3} />;
  if (query.error) return <EmptyState title="Not available" description={query.error.message} />;
  const info = query.data;
  const rows: [string, string][] = [
    ["Owner", info.owner ?? "root"],
    ["Tenant", info.tenant_name ?? "—"],
    ["Objects", info.object_count.toLocaleString()],
    ["Size", formatBytes(info.size)],
    ["Created", formatDate(info.created_at)],
  ];
  return (
    <Card>
      <Facts rows={rows} />
    </Card>
  );
}

export default function BucketSettingsPage() {
  const { bucket = "" } = useParams();
  return (
    <>
      <PageHeader
        title={bucket}
        description="Bucket settings"
        actions={
          <>
            <Button variant="secondary" asChild>
              <Link to={`/buckets/${encodeURIComponent(bucket)}/objects`}>Browse objects</Link>
            </Button>
            <Link to="/buckets" className="self-center text-sm text-primary underline">
              All buckets
            </Link>
          </>
        }
      />
      <Tabs defaultValue="overview">
        <TabsList aria-label="Bucket settings">
          <TabsTrigger value="overview">Overview</TabsTrigger>
          <TabsTrigger value="versioning">Versioning</TabsTrigger>
          <TabsTrigger value="object-lock">Object Lock</TabsTrigger>
          <TabsTrigger value="lifecycle">Lifecycle</TabsTrigger>
          <TabsTrigger value="cors">CORS</TabsTrigger>
          <TabsTrigger value="policy">Policy</TabsTrigger>
          <TabsTrigger value="tags">Tags</TabsTrigger>
        </TabsList>
        <TabsContent value="overview">
          <Overview bucket={bucket} />
        </TabsContent>
        <TabsContent value="versioning">
          <VersioningTab bucket={bucket} />
        </TabsContent>
        <TabsContent value="object-lock">
          <ObjectLockTab bucket={bucket} />
        </TabsContent>
        <TabsContent value="lifecycle">
          <LifecycleTab bucket={bucket} />
        </TabsContent>
        <TabsContent value="cors">
          <CorsTab bucket={bucket} />
        </TabsContent>
        <TabsContent value="policy">
          <PolicyTab bucket={bucket} />
        </TabsContent>
        <TabsContent value="tags">
          <TaggingTab bucket={bucket} />
        </TabsContent>
      </Tabs>
    </>
  );
}
